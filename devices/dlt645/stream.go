package dlt645

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// maxPreamble bounds how many FE bytes ReadFrame skips, so a line stuck
// sending FE cannot hold a reader forever.
const maxPreamble = 64

// ReadFrame reads exactly one frame from r, using the length byte to know
// where it ends, and decodes it. Leading FE bytes are skipped. Any other
// byte before the start is consumed and reported as ErrBadStart so the
// caller can decide to keep reading (resync) or drop the connection.
// A clean end of stream before the first byte returns io.EOF; an end inside
// a frame returns ErrTruncated wrapping io.ErrUnexpectedEOF.
func ReadFrame(r *bufio.Reader) (Frame, error) {
	var b byte
	var err error
	for i := 0; ; i++ {
		b, err = r.ReadByte()
		if err != nil {
			if i > 0 && errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return Frame{}, streamErr(err)
		}
		if b != preambleByte {
			break
		}
		if i >= maxPreamble {
			return Frame{}, fmt.Errorf("%w: more than %d preamble bytes", ErrBadStart, maxPreamble)
		}
	}
	if b != startByte {
		return Frame{}, fmt.Errorf("%w: got 0x%02X before frame", ErrBadStart, b)
	}
	buf := make([]byte, headerLen, headerLen+MaxDataLen+2)
	buf[0] = b
	if _, err := io.ReadFull(r, buf[1:headerLen]); err != nil {
		return Frame{}, streamErr(unexpected(err))
	}
	// Check the second start before trusting the length byte, so garbage
	// does not make us wait for up to 257 bytes that will never come.
	if buf[7] != startByte {
		return Frame{}, fmt.Errorf("%w: got 0x%02X at second start", ErrBadStart, buf[7])
	}
	buf = buf[:headerLen+int(buf[9])+2]
	if _, err := io.ReadFull(r, buf[headerLen:]); err != nil {
		return Frame{}, streamErr(unexpected(err))
	}
	return Decode(buf)
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// streamErr keeps io.EOF bare (the io convention for a clean end) and tags
// a mid-frame end as truncation.
func streamErr(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: %w", ErrTruncated, err)
	}
	if err == io.EOF {
		return err
	}
	return fmt.Errorf("dlt645: reading frame: %w", err)
}
