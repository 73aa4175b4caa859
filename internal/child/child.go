// Package child runs the processes `voltflow dev` owns (the Temporal server,
// PostgreSQL) so that none outlives it: each gets a signal from the kernel
// when voltflow dies, however it dies, and is stopped with a deadline.
package child

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Process is a started child.
type Process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once the child has exited and been reaped
	err  error         // its exit status, set before done closes
}

// Start starts cmd with onParentDeath as its parent-death signal (Linux
// PR_SET_PDEATHSIG).
//
// The kernel sends that signal when the thread that forked the child ends,
// not the process (golang/go#27505): a Go thread may end under us when a
// goroutine that locked it returns. So the fork happens on a goroutine that
// locks its thread and keeps it until the child is reaped.
func Start(cmd *exec.Cmd, onParentDeath syscall.Signal) (*Process, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = onParentDeath
	p := &Process{cmd: cmd, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with this goroutine, after the child
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return p, nil
}

// Pid is the child's process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Done is closed once the child has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err is the child's exit status; valid after Done.
func (p *Process) Err() error { return p.err }

// Stop sends sig and waits up to grace for the child to exit, then kills it.
// It returns an error when the kill was needed.
func (p *Process) Stop(sig syscall.Signal, grace time.Duration) error {
	select {
	case <-p.done:
		return nil
	default:
	}
	_ = p.cmd.Process.Signal(sig)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.done:
		return nil
	case <-t.C:
	}
	_ = p.cmd.Process.Kill()
	<-p.done
	return fmt.Errorf("pid %d did not exit within %v of %v: killed", p.Pid(), grace, sig)
}

// StartTime is when process pid started, in clock ticks since boot (field 22
// of /proc/<pid>/stat): with the pid it names one process, as pids are
// reused.
func StartTime(pid int) (uint64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3
	if len(f) < 20 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f)+2)
	}
	return strconv.ParseUint(f[19], 10, 64)
}

// PIDFile records a child in a file, so that a later run can find it if
// this one is killed before it could stop the child.
type PIDFile string

// Write records p.
func (f PIDFile) Write(p *Process) error {
	st, err := StartTime(p.Pid())
	if err != nil {
		return fmt.Errorf("pid file %s: %w", f, err)
	}
	return os.WriteFile(string(f), fmt.Appendf(nil, "%d %d\n", p.Pid(), st), 0o644)
}

// Remove deletes the record (the child was stopped).
func (f PIDFile) Remove() {
	_ = os.Remove(string(f))
}

// StopStale stops the process the file records if it still runs (same pid,
// same start time), SIGTERM then SIGKILL after grace, and removes the file.
// It returns the pid it stopped, 0 if none.
func (f PIDFile) StopStale(ctx context.Context, grace time.Duration) (int, error) {
	b, err := os.ReadFile(string(f))
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var pid int
	var st uint64
	if _, err := fmt.Sscan(string(b), &pid, &st); err != nil || pid <= 0 {
		f.Remove() // unreadable: nothing we could safely signal
		return 0, nil
	}
	if now, err := StartTime(pid); err != nil || now != st {
		f.Remove() // gone, or the pid now names another process
		return 0, nil
	}
	_ = syscall.Kill(pid, syscall.SIGTERM)
	deadline := time.Now().Add(grace)
	for Running(pid, st) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			deadline = time.Now().Add(grace)
		}
		select {
		case <-ctx.Done():
			return pid, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	f.Remove()
	return pid, nil
}

// Running: pid still names the process that started at st, and it is not a
// zombie (an orphan's is reaped by init soon).
func Running(pid int, st uint64) bool {
	now, err := StartTime(pid)
	if err != nil || now != st {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || len(s) < i+3 || s[i+2] != 'Z'
}
