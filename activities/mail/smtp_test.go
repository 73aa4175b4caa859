package mail

import (
	"bufio"
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

// fakeSMTP is a minimal SMTP server on a real socket that records one
// session's commands and message.
func fakeSMTP(t *testing.T) (addr string, got chan []string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	got = make(chan []string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		r, w := bufio.NewReader(c), bufio.NewWriter(c)
		say := func(s string) { _, _ = w.WriteString(s + "\r\n"); _ = w.Flush() } // a failed write shows as the client's error
		var lines []string
		say("220 fake ESMTP")
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				got <- lines
				return
			}
			l = strings.TrimRight(l, "\r\n")
			lines = append(lines, l)
			switch cmd := strings.ToUpper(strings.SplitN(l, " ", 2)[0]); cmd {
			case "EHLO", "HELO":
				say("250 fake")
			case "DATA":
				say("354 go on")
				for {
					d, err := r.ReadString('\n')
					if err != nil {
						got <- lines
						return
					}
					if d == ".\r\n" {
						break
					}
					lines = append(lines, strings.TrimRight(d, "\r\n"))
				}
				say("250 queued")
			case "QUIT":
				say("221 bye")
				got <- lines
				return
			default:
				say("250 ok")
			}
		}
	}()
	return ln.Addr().String(), got
}

func TestSMTPDeliversOneMessage(t *testing.T) {
	addr, got := fakeSMTP(t)
	s := &SMTP{Addr: addr, From: "billing@voltflow.example", Timeout: 5 * time.Second}
	err := s.Deliver(context.Background(), Message{To: "ap@acme.example", Subject: "账单 1: 300.35",
		Body: "Opening balance: 0.00\nClosing balance: 300.35\n"})
	if err != nil {
		t.Fatal(err)
	}
	session := strings.Join(<-got, "\n")
	for _, want := range []string{"MAIL FROM:<billing@voltflow.example>", "RCPT TO:<ap@acme.example>", "To: ap@acme.example",
		"Subject: =?utf-8?q?", "Closing balance: 300.35", "QUIT"} {
		if !strings.Contains(session, want) {
			t.Errorf("session lacks %q:\n%s", want, session)
		}
	}
}

func TestSMTPUnreachableIsAnError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	if err := (&SMTP{Addr: addr, From: "a@b.example", Timeout: time.Second}).Deliver(context.Background(), Message{To: "c@d.example"}); err == nil {
		t.Fatal("delivery to a closed port succeeded")
	}
}
