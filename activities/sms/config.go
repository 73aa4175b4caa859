package sms

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Config chooses and configures the providers. The zero value is the outbox.
type Config struct {
	Providers []string // in order of preference: outbox, aliyun, tencent
	Aliyun    Aliyun
	Tencent   Tencent
	Templates Templates
	// PerNumberPerHour caps the SMS one number gets in an hour (0: none);
	// VOLTFLOW_SMS_PER_NUMBER_PER_HOUR.
	PerNumberPerHour int
	// OutboxInbox is VOLTFLOW_SMS_OUTBOX_INBOX: the outbox's Inbox file
	// (development and tests only).
	OutboxInbox string
}

// ConfigFromEnv reads VOLTFLOW_SMS_PROVIDERS (e.g. "aliyun,tencent"; default
// outbox), VOLTFLOW_SMS_ALIYUN_{ENDPOINT,KEY_ID,KEY_SECRET,SIGN_NAME},
// VOLTFLOW_SMS_TENCENT_{ENDPOINT,SECRET_ID,SECRET_KEY,APP_ID,SIGN_NAME} and
// VOLTFLOW_SMS_TEMPLATES (JSON object of Template by name, replacing the
// defaults).
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		Aliyun: Aliyun{Endpoint: or(getenv("VOLTFLOW_SMS_ALIYUN_ENDPOINT"), "https://dysmsapi.aliyuncs.com"),
			AccessKeyID: getenv("VOLTFLOW_SMS_ALIYUN_KEY_ID"), AccessKeySecret: getenv("VOLTFLOW_SMS_ALIYUN_KEY_SECRET"),
			SignName: getenv("VOLTFLOW_SMS_ALIYUN_SIGN_NAME")},
		Tencent: Tencent{Endpoint: or(getenv("VOLTFLOW_SMS_TENCENT_ENDPOINT"), "https://sms.tencentcloudapi.com"),
			SecretID: getenv("VOLTFLOW_SMS_TENCENT_SECRET_ID"), SecretKey: getenv("VOLTFLOW_SMS_TENCENT_SECRET_KEY"),
			SdkAppID: getenv("VOLTFLOW_SMS_TENCENT_APP_ID"), SignName: getenv("VOLTFLOW_SMS_TENCENT_SIGN_NAME")},
		OutboxInbox: getenv("VOLTFLOW_SMS_OUTBOX_INBOX"),
	}
	for _, p := range strings.Split(getenv("VOLTFLOW_SMS_PROVIDERS"), ",") {
		if p = strings.TrimSpace(p); p != "" {
			c.Providers = append(c.Providers, p)
		}
	}
	if raw := getenv("VOLTFLOW_SMS_PER_NUMBER_PER_HOUR"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 0 {
			return c, fmt.Errorf("VOLTFLOW_SMS_PER_NUMBER_PER_HOUR: want a count, got %q", raw)
		}
		c.PerNumberPerHour = n
	}
	if raw := getenv("VOLTFLOW_SMS_TEMPLATES"); raw != "" {
		if err := json.Unmarshal([]byte(raw), &c.Templates); err != nil {
			return c, fmt.Errorf("VOLTFLOW_SMS_TEMPLATES: %w", err)
		}
	}
	return c, nil
}

// Build makes the providers, in order.
func (c Config) Build() ([]Provider, error) {
	var out []Provider
	for _, name := range c.Providers {
		switch name {
		case "outbox":
			out = append(out, Outbox{Inbox: c.OutboxInbox})
		case "aliyun":
			a := c.Aliyun
			if a.AccessKeyID == "" || a.AccessKeySecret == "" || a.SignName == "" {
				return nil, fmt.Errorf("sms provider aliyun needs key id, key secret and sign name")
			}
			out = append(out, &a)
		case "tencent":
			t := c.Tencent
			if t.SecretID == "" || t.SecretKey == "" || t.SdkAppID == "" || t.SignName == "" {
				return nil, fmt.Errorf("sms provider tencent needs secret id, secret key, app id and sign name")
			}
			out = append(out, &t)
		default:
			return nil, fmt.Errorf("unknown sms provider %q (want outbox, aliyun, tencent)", name)
		}
	}
	return out, nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
