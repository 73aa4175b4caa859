package main

import (
	"context"
	"flag"
	"log/slog"

	"github.com/voltflow/voltflow/payproviders/paysim"
	"github.com/voltflow/voltflow/payproviders/wechatpay"
)

// Dev defaults of the payment simulator and of the merchant `voltflow dev`
// configures against it (dev only: a production start uses the real
// provider's values).
const (
	devPayAddr     = "127.0.0.1:9500"
	devMchID       = "1900000001"
	devAppID       = "wxvoltflowdemo"
	devAPIv3Key    = "voltflow-dev-apiv3-key-32-bytes!"
	devAlipayAppID = "2021000000000001"
)

// runPaySim is `voltflow sim pay`: a fake WeChat Pay and Alipay
// (payproviders/paysim) with its own key pairs.
func runPaySim(ctx context.Context, log *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("sim pay", flag.ContinueOnError)
	addr := fs.String("addr", devPayAddr, "listen address")
	mchid := fs.String("mchid", devMchID, "merchant id")
	appid := fs.String("appid", devAppID, "app id")
	apiv3 := fs.String("apiv3-key", devAPIv3Key, "APIv3 key (32 characters) the callbacks are encrypted with")
	merchantKey := fs.String("merchant-public-key", "", "PEM file of the merchant's public key: requests are checked against it (empty: not checked)")
	platformKey := fs.String("platform-private-key", "", "PEM file of the platform's private key (empty: one is generated at start)")
	platformOut := fs.String("platform-key-out", "", "write the platform's public key (PEM) here once listening")
	alipayApp := fs.String("alipay-appid", devAlipayAppID, "Alipay app id")
	alipayOut := fs.String("alipay-key-out", "", "write Alipay's public key (PEM) here once listening")
	alipayKey := fs.String("alipay-private-key", "", "PEM file of Alipay's private key (empty: one is generated at start)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg := paysim.Config{Addr: *addr, MchID: *mchid, AppID: *appid, APIv3Key: *apiv3, PlatformKeyOut: *platformOut,
		AlipayAppID: *alipayApp, AlipayKeyOut: *alipayOut,
		Log: log.With("component", "pay-sim")}
	if *merchantKey != "" {
		k, err := wechatpay.ReadPublicKey(*merchantKey)
		if err != nil {
			return err
		}
		cfg.MerchantKey = k
	}
	if *platformKey != "" {
		k, err := wechatpay.ReadPrivateKey(*platformKey)
		if err != nil {
			return err
		}
		cfg.PlatformKey = k
	}
	if *alipayKey != "" {
		k, err := wechatpay.ReadPrivateKey(*alipayKey)
		if err != nil {
			return err
		}
		cfg.AlipayKey = k
	}
	return paysim.Run(ctx, cfg)
}
