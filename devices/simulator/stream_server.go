package simulator

import (
	"context"
	"fmt"
	"net"
	"sync"
)

// streamServer is the TCP side of a gateway whose protocol the Modbus TCP
// library does not serve (RTU over TCP, DL/T 645 over TCP): it accepts
// connections and runs serve on each until Stop closes them all. A restart
// keeps the address, port included, like Gateway.
type streamServer struct {
	serve func(net.Conn)

	mu        sync.Mutex
	addr      string
	ln        net.Listener
	conns     map[net.Conn]struct{}
	wg        sync.WaitGroup
	stopWatch func() bool
}

func (s *streamServer) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

func (s *streamServer) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return nil
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("simulator gateway %s: %w", s.addr, err)
	}
	s.addr = ln.Addr().String() // resolves a port 0 once
	s.ln = ln
	s.conns = map[net.Conn]struct{}{}
	s.wg.Add(1)
	go s.accept(ln)
	s.stopWatch = context.AfterFunc(ctx, func() { _ = s.Stop() })
	return nil
}

func (s *streamServer) accept(ln net.Listener) {
	defer s.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			return // closed by Stop
		}
		s.mu.Lock()
		if s.ln != ln { // stopped between Accept and here
			s.mu.Unlock()
			_ = c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			s.serve(c)
			_ = c.Close()
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
}

// Stop closes the listener and every connection and waits for their
// goroutines, so clients see the gateway unreachable until the next Start.
func (s *streamServer) Stop() error {
	s.mu.Lock()
	if s.ln == nil {
		s.mu.Unlock()
		return nil
	}
	s.stopWatch()
	err := s.ln.Close()
	s.ln = nil
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}
