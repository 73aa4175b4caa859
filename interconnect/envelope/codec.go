package envelope

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/md5"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Codec encrypts, decrypts, signs and verifies with one operator's Secrets.
// It is immutable and safe for concurrent use.
type Codec struct {
	operatorID string
	block      cipher.Block
	iv         []byte
	sigKey     []byte
}

// NewCodec validates s and prepares the cipher. DataSecret and DataSecretIV
// must be exactly 16 bytes (AES-128, §10.4.3.1 and note 4 of §10.1.4).
func NewCodec(s Secrets) (*Codec, error) {
	if s.OperatorID == "" || !utf8.ValidString(s.OperatorID) {
		// Invalid UTF-8 would be altered by JSON encoding and break the Sig.
		return nil, fmt.Errorf("envelope: OperatorID empty or not UTF-8: %w", ErrInvalidSecrets)
	}
	if len(s.DataSecret) != aes.BlockSize {
		return nil, fmt.Errorf("envelope: DataSecret must be %d bytes, got %d: %w", aes.BlockSize, len(s.DataSecret), ErrInvalidSecrets)
	}
	if len(s.DataSecretIV) != aes.BlockSize {
		return nil, fmt.Errorf("envelope: DataSecretIV must be %d bytes, got %d: %w", aes.BlockSize, len(s.DataSecretIV), ErrInvalidSecrets)
	}
	if s.SigSecret == "" {
		return nil, fmt.Errorf("envelope: SigSecret empty: %w", ErrInvalidSecrets)
	}
	block, err := aes.NewCipher([]byte(s.DataSecret))
	if err != nil {
		return nil, fmt.Errorf("envelope: DataSecret: %w", err)
	}
	return &Codec{
		operatorID: s.OperatorID,
		block:      block,
		iv:         []byte(s.DataSecretIV),
		sigKey:     []byte(s.SigSecret),
	}, nil
}

// OperatorID is the operator this codec seals requests as.
func (c *Codec) OperatorID() string { return c.operatorID }

// String, Format and LogValue keep key material out of output: the fields
// are unexported, so fmt would otherwise print them raw.
func (c *Codec) String() string {
	return "Codec{OperatorID: " + c.operatorID + ", secrets: " + redacted + "}"
}

// Format implements fmt.Formatter; see String.
func (c *Codec) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }

// LogValue implements slog.LogValuer; see String.
func (c *Codec) LogValue() slog.Value {
	return slog.GroupValue(slog.String("OperatorID", c.operatorID), slog.String("secrets", redacted))
}

// Encrypt returns Base64(AES-128-CBC(PKCS5(plaintext))) as used for Data.
func (c *Codec) Encrypt(plaintext []byte) string {
	n := aes.BlockSize - len(plaintext)%aes.BlockSize
	buf := make([]byte, len(plaintext)+n)
	copy(buf, plaintext)
	for i := len(plaintext); i < len(buf); i++ {
		buf[i] = byte(n)
	}
	cipher.NewCBCEncrypter(c.block, c.iv).CryptBlocks(buf, buf)
	return base64.StdEncoding.EncodeToString(buf)
}

// Decrypt reverses Encrypt. Errors wrap ErrDecrypt. Callers must verify the
// signature first: reporting padding errors on unauthenticated input would
// be a padding oracle.
func (c *Codec) Decrypt(data string) ([]byte, error) {
	// StdEncoding skips \r and \n, so line-wrapped Data (as printed in the
	// standard's examples) still decodes.
	buf, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return nil, fmt.Errorf("envelope: base64: %w: %w", ErrDecrypt, err)
	}
	if len(buf) == 0 || len(buf)%aes.BlockSize != 0 {
		return nil, fmt.Errorf("envelope: ciphertext length %d is not a positive multiple of %d: %w", len(buf), aes.BlockSize, ErrDecrypt)
	}
	cipher.NewCBCDecrypter(c.block, c.iv).CryptBlocks(buf, buf)
	n := int(buf[len(buf)-1])
	if n == 0 || n > aes.BlockSize {
		return nil, fmt.Errorf("envelope: bad padding: %w", ErrDecrypt)
	}
	pad := buf[len(buf)-n:]
	for _, b := range pad {
		if b != byte(n) {
			return nil, fmt.Errorf("envelope: bad padding: %w", ErrDecrypt)
		}
	}
	return buf[:len(buf)-n], nil
}

// sign is upper-case hex HMAC-MD5 over the concatenated parts (§10.5).
func (c *Codec) sign(parts ...string) string {
	m := hmac.New(md5.New, c.sigKey)
	for _, p := range parts {
		_, _ = io.WriteString(m, p)
	}
	return strings.ToUpper(hex.EncodeToString(m.Sum(nil)))
}

// SignRequest signs OperatorID+Data+TimeStamp+Seq.
func (c *Codec) SignRequest(operatorID, data, timeStamp, seq string) string {
	return c.sign(operatorID, data, timeStamp, seq)
}

// SignResponse signs Ret+Msg+Data, Ret in decimal.
func (c *Codec) SignResponse(ret Ret, msg, data string) string {
	return c.sign(strconv.Itoa(int(ret)), msg, data)
}

// verify compares in constant time. Hex case is ignored: the standard asks
// senders for upper case, but being lenient here costs no security.
func verify(want, got string) bool {
	if len(got) != len(want) {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToUpper(got))) == 1
}
