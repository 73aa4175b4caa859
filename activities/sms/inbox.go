package sms

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Delivered is one message in the outbox's Inbox file, as its recipient
// reads it (secret values included).
type Delivered struct {
	Phone string `json:"phone"`
	Text  string `json:"text"`
	Ref   string `json:"ref"`
}

// appendInbox adds a line to the inbox file; O_APPEND keeps the lines of
// several workers whole.
func appendInbox(path string, d Delivered) error {
	line, err := json.Marshal(d)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("sms inbox: %w", err)
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		_ = f.Close()
		return fmt.Errorf("sms inbox: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("sms inbox: %w", err)
	}
	return nil
}

// ReadInbox is the inbox file's messages to phone, oldest first; no file is
// no message.
func ReadInbox(path, phone string) ([]Delivered, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sms inbox: %w", err)
	}
	defer func() { _ = f.Close() }() // read only
	var out []Delivered
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var d Delivered
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			// A line still being written by a worker: read again later.
			continue
		}
		if d.Phone == phone {
			out = append(out, d)
		}
	}
	return out, sc.Err()
}
