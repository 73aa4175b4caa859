package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// devPayments prepares online payment for `voltflow dev` against the
// payment simulator: key pairs kept under stateDir/pay (made on the first
// run), and the VOLTFLOW_WECHATPAY_* / VOLTFLOW_ALIPAY_* settings the
// process reads, unless they are set already (a real merchant). It returns
// the simulator's arguments, nil when a real provider is configured.
func devPayments(stateDir, httpAddr string) ([]string, error) {
	if os.Getenv("VOLTFLOW_WECHATPAY_URL") != "" || os.Getenv("VOLTFLOW_ALIPAY_URL") != "" {
		return nil, nil
	}
	dir := filepath.Join(stateDir, "pay")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	keys := map[string]string{}
	for _, name := range []string{"merchant", "platform", "alipay"} {
		priv := filepath.Join(dir, name+".pem")
		if _, err := os.Stat(priv); errors.Is(err, fs.ErrNotExist) {
			if err := newKeyPair(priv, filepath.Join(dir, name+".pub.pem")); err != nil {
				return nil, err
			}
		}
		keys[name] = priv
	}
	base := "http://" + devPayAddr
	for k, v := range map[string]string{
		"VOLTFLOW_WECHATPAY_URL": base, "VOLTFLOW_WECHATPAY_MCHID": devMchID, "VOLTFLOW_WECHATPAY_APPID": devAppID,
		"VOLTFLOW_WECHATPAY_SERIAL": "DEV-MERCHANT-1", "VOLTFLOW_WECHATPAY_APIV3_KEY": devAPIv3Key,
		"VOLTFLOW_WECHATPAY_PRIVATE_KEY": keys["merchant"], "VOLTFLOW_WECHATPAY_PLATFORM_KEY": filepath.Join(dir, "platform.pub.pem"),
		"VOLTFLOW_WECHATPAY_NOTIFY_URL": "http://" + httpAddr + "/api/v1/payments/wechat/notify",
		"VOLTFLOW_ALIPAY_URL":           base + "/gateway.do", "VOLTFLOW_ALIPAY_APPID": devAlipayAppID,
		"VOLTFLOW_ALIPAY_PRIVATE_KEY": keys["merchant"], "VOLTFLOW_ALIPAY_PUBLIC_KEY": filepath.Join(dir, "alipay.pub.pem"),
		"VOLTFLOW_ALIPAY_NOTIFY_URL": "http://" + httpAddr + "/api/v1/payments/alipay/notify",
	} {
		if err := os.Setenv(k, v); err != nil {
			return nil, err
		}
	}
	return []string{"--addr", devPayAddr, "--merchant-public-key", filepath.Join(dir, "merchant.pub.pem"),
		"--platform-private-key", keys["platform"], "--alipay-private-key", keys["alipay"]}, nil
}

func newKeyPair(privPath, pubPath string) error {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return err
	}
	pub, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		return err
	}
	if err := os.WriteFile(pubPath, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o644); err != nil {
		return err
	}
	return os.WriteFile(privPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
}
