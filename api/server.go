// Package api is Voltflow's HTTP API (contracts.md): it translates HTTP to
// calls on the store and Temporal and back; business rules live in domain/.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.temporal.io/sdk/client"
	"golang.org/x/crypto/bcrypt"

	"github.com/voltflow/voltflow/api/console"
	"github.com/voltflow/voltflow/api/mobile"
	"github.com/voltflow/voltflow/domain/card"
	"github.com/voltflow/voltflow/interconnect/keys"
	"github.com/voltflow/voltflow/internal/papers"
	"github.com/voltflow/voltflow/payproviders/alipay"
	"github.com/voltflow/voltflow/payproviders/wechatpay"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/operator"
)

// Config of the API.
type Config struct {
	DB       *store.DB
	Temporal client.Client
	Log      *slog.Logger
	// UpdateTimeout bounds how long a decision waits for a worker before 503.
	UpdateTimeout time.Duration
	// DispatchWindow is passed to new recharges (0: the workflow's default).
	DispatchWindow time.Duration
	// SessionTTL is how long a login token lives.
	SessionTTL time.Duration
	// SweepInterval is the reading interval of a sweep Schedule the API
	// creates: for a project whose first meters are imported while the
	// workers run (0: the sweep's default, 30 minutes).
	SweepInterval time.Duration
	// LoginMaxFailures failed logins of one username within LoginWindow
	// lock it until the oldest leaves the window (defaults 5 in 15 minutes).
	LoginMaxFailures int
	LoginWindow      time.Duration
	// Regulator, when set, serves the regulator's calls at /shevcs/v1/...
	// (interconnect/serve; it authenticates by its own envelope and token).
	Regulator http.Handler
	// RegulatorKeys keeps the regulator's credentials (nil: a store on the
	// environment's master key).
	RegulatorKeys *keys.Store
	// WeChatPay places online payment orders and verifies their callbacks
	// (nil: online payment by WeChat is off).
	WeChatPay *wechatpay.Client
	// Alipay places face-to-face orders and verifies notifications (nil: off).
	Alipay *alipay.Client
	// PaymentQueryAfter is how long a payment waits for its callback
	// before asking the provider (0: the workflow's default).
	PaymentQueryAfter time.Duration
}

// Server is the HTTP API.
type Server struct {
	cfg     Config
	log     *slog.Logger
	metrics *metrics
	router  chi.Router
	console http.Handler
	mobile  http.Handler // the tenant's phone page at /m/
	// dummyHash makes a login for an unknown user cost what a wrong password costs.
	dummyHash []byte
	lockout   operator.Lockout
	fonts     papers.Fonts // the CJK font of PDF papers, read on first use
}

// New builds the API with its own Prometheus registry (no global state).
func New(cfg Config) *Server {
	if cfg.UpdateTimeout <= 0 {
		cfg.UpdateTimeout = 10 * time.Second
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.LoginMaxFailures <= 0 {
		cfg.LoginMaxFailures = 5
	}
	if cfg.LoginWindow <= 0 {
		cfg.LoginWindow = 15 * time.Minute
	}
	s := &Server{cfg: cfg, log: cfg.Log, metrics: newMetrics(),
		lockout: operator.Lockout{Max: cfg.LoginMaxFailures, Window: cfg.LoginWindow}}
	s.dummyHash, _ = bcrypt.GenerateFromPassword([]byte("not a password"), bcrypt.DefaultCost)
	r := chi.NewRouter()
	r.Use(s.guard, middleware.Recoverer, s.observe)
	r.Get("/healthz", s.healthz)
	r.Get("/readyz", s.readyz)
	r.Handle("/metrics", promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{}))
	if cfg.Regulator != nil {
		r.Mount("/shevcs", cfg.Regulator)
	}
	r.Route("/api/v1", func(r chi.Router) {
		r.Get("/openapi.json", serveOpenAPI)
		r.With(s.audit("auth.login")).Post("/auth/login", s.login)
		r.With(s.audit("payment.notify")).Post("/payments/wechat/notify", s.wechatNotify)
		r.With(s.audit("payment.notify")).Post("/payments/alipay/notify", s.alipayNotify)
		// Tenant self-service: phone + SMS code, then a tenant session.
		r.With(s.audit("tenant.login_code")).Post("/tenant/login-codes", s.tenantLoginCode)
		r.With(s.audit("tenant.login")).Post("/tenant/sessions", s.tenantLogin)
		r.Group(func(r chi.Router) {
			r.Use(s.tenantAuth)
			r.Get("/tenant/meters", s.tenantMeters)
			r.Get("/tenant/meters/{meterNo}", s.tenantMeter)
			r.With(s.audit("tenant.payment")).Post("/tenant/payments", s.tenantPayment)
			r.Get("/tenant/payments/{orderNo}", s.tenantGetPayment)
		})
		r.Group(func(r chi.Router) {
			r.Use(s.authenticate)
			r.With(s.audit("recharge.create")).Post("/recharges", s.createRecharge)
			r.With(s.audit("payment.create")).Post("/payments", s.createPayment)
			r.Get("/payments/{orderNo}", s.getPayment)
			r.With(s.audit("payment.reconcile")).Post("/payment-reconciliations", s.createReconciliation)
			r.Get("/recharges", s.listRecharges)
			r.Get("/recharges/{id}", s.getRecharge)
			r.With(s.audit("recharge.receipt")).Get("/recharges/{id}/receipt.pdf", s.getRechargeReceipt)
			r.With(s.audit("recharge.redispatch")).Post("/recharges/{id}/redispatch", s.redispatchRecharge)
			r.With(s.audit("recharge.reverse")).Post("/recharges/{id}/reverse", s.reverseRecharge)
			r.With(s.audit("refund.create")).Post("/refunds", s.createRefund)
			r.Get("/refunds/{id}", s.getRefund)
			r.With(s.audit("refund.receipt")).Get("/refunds/{id}/receipt.pdf", s.getRefundReceipt)
			r.With(s.audit("refund.redispatch")).Post("/refunds/{id}/redispatch", s.redispatchRefund)
			r.Get("/tasks", s.listTasks)
			r.Get("/tasks/{id}", s.getTask)
			r.With(s.audit("task.approve")).Post("/tasks/{id}/approve", s.decide(true))
			r.With(s.audit("task.reject")).Post("/tasks/{id}/reject", s.decide(false))
			r.Get("/meters", s.listMeters)
			r.Get("/meters/{meterNo}", s.getMeter)
			r.With(s.audit("meter.read")).Post("/meters/{meterNo}/read", s.readMeter)
			r.With(s.audit("meter.command")).Post("/meters/{meterNo}/commands", s.createMeterCommand)
			r.Get("/meter-commands/{id}", s.getMeterCommand)
			r.With(s.audit("meter.command.redispatch")).Post("/meter-commands/{id}/redispatch", s.redispatchMeterCommand)
			r.With(s.audit("meter.batch")).Post("/meter-batches", s.createMeterBatch)
			r.With(s.audit("dispatch.command")).Post("/dispatch/commands", s.createDispatchCommand)
			r.With(s.audit("dispatch.site_limit")).Post("/dispatch/plans/{stationId}/{planId}/site-limit", s.setSiteLimit)
			r.With(s.audit("dispatch.plan.create")).Post("/dispatch/plans", s.createDispatchPlan)
			r.Get("/dispatch/plans", s.listDispatchPlans)
			r.Get("/dispatch/plans/{stationId}/{planId}", s.getDispatchPlan)
			r.With(s.audit("dispatch.plan.cancel")).Delete("/dispatch/plans/{stationId}/{planId}", s.cancelDispatchPlan)
			r.Get("/meter-batches/{id}", s.getMeterBatch)
			r.With(s.audit("meter.batch.redispatch")).Post("/meter-batches/{id}/redispatch", s.redispatchMeterBatch)
			r.Get("/ledger/accounts", s.listAccounts)
			r.Get("/chargers/{id}", s.getCharger)
			r.Get("/chargers/{id}/messages", s.listChargerMessages)
			r.Get("/cards/{cardNo}", s.getCard)
			r.With(s.audit("card.freeze")).Post("/cards/{cardNo}/freeze", s.setCardStatus(card.Frozen))
			r.With(s.audit("card.unfreeze")).Post("/cards/{cardNo}/unfreeze", s.setCardStatus(card.Active))
			r.Get("/sms", s.listSMS)
			r.Get("/alarms", s.listAlarms)
			r.Get("/charging-orders", s.listChargingOrders)
			r.Get("/charging-orders/export", s.exportChargingOrders)
			r.Get("/charging-stations/{id}/live", s.chargingStationLive)
			r.With(s.audit("card.activate")).Post("/cards", s.activateCard)
			r.With(s.audit("vehicle.register")).Post("/vehicles", s.registerVehicle)
			r.With(s.audit("card.void")).Post("/cards/{cardNo}/void", s.setCardStatus(card.Void))
			r.With(s.audit("card.holder")).Put("/cards/{cardNo}/holder", s.assignCardHolder)
			r.Get("/cards/{cardNo}/history", s.cardHistory)
			r.Get("/charging-orders/tou-stats", s.touStats)
			r.Get("/charging-orders/{id}", s.getChargingOrder)
			r.With(s.audit("charging.start")).Post("/charging-orders", s.createChargingOrder)
			r.With(s.audit("charging.stop")).Post("/charging-orders/{id}/stop", s.stopChargingOrder)
			r.Get("/pricing-strategies", s.listPricingStrategies)
			r.With(s.audit("pricing.save")).Post("/pricing-strategies", s.savePricingStrategy)
			r.Get("/customer-groups", s.listCustomerGroups)
			r.With(s.audit("customer-group.save")).Post("/customer-groups", s.saveCustomerGroup)
			r.With(s.audit("charging-discount.save")).Post("/charging-discounts", s.saveDiscount)
			r.Get("/charging-packages", s.listChargingPackages)
			r.With(s.audit("charging-package.save")).Post("/charging-packages", s.saveChargingPackage)
			r.Get("/reports/{name}", s.report)
			r.Get("/projects/{project}/tariffs", s.listTariffs)
			r.With(s.audit("tariff.create")).Post("/projects/{project}/tariffs", s.createTariff)
			r.With(s.audit("meter.import")).Post("/projects/{project}/meter-imports", s.importMeters)
			r.Get("/projects/{project}/gateways/{code}", s.getGateway)
			r.With(s.audit("gateway.update")).Patch("/projects/{project}/gateways/{code}", s.patchGateway)
			r.With(s.audit("meter.tariff")).Put("/meters/{meterNo}/tariff", s.setMeterTariff)
			r.With(s.audit("enterprise.create")).Post("/enterprises", s.createEnterprise)
			r.Get("/enterprises", s.listEnterprises)
			r.Get("/enterprises/{id}", s.getEnterprise)
			r.With(s.audit("enterprise.staff")).Post("/enterprises/{id}/staff", s.addStaff)
			r.Get("/enterprises/{id}/staff", s.listStaff)
			r.With(s.audit("enterprise.consume")).Post("/enterprises/{id}/consumptions", s.createConsumption)
			r.Get("/enterprises/{id}/bills", s.listBills)
			r.Get("/bills/{id}", s.getBill)
			r.With(s.audit("enterprise.recharge")).Post("/enterprise-recharges", s.createEnterpriseRecharge)
			r.Get("/enterprise-recharges/{id}", s.getEnterpriseRecharge)
			r.With(s.audit("credit.apply")).Post("/credit-applications", s.createCreditApplication)
			r.Get("/credit-applications/{id}", s.getCreditApplication)
			r.With(s.audit("credit.repay")).Post("/repayments", s.createRepayment)
			r.Get("/mail", s.listMail)
			r.Get("/auth/me", s.me)
			s.consoleRoutes(r)
			s.financeRoutes(r)
			s.operatorRoutes(r)
			s.setupRoutes(r)
			s.structureRoutes(r)
			s.workOrderRoutes(r)
			s.replacementRoutes(r)
			s.safetyRoutes(r)
			s.feeRoutes(r)
			s.allowanceRoutes(r)
			s.consoleListRoutes(r)
			s.walletRoutes(r)
			s.regulatorRoutes(r)
			s.networkRoutes(r)
			s.regulatorDataRoutes(r)
			s.regulatorPolicyRoutes(r)
			s.chargingMoneyRoutes(r)
			s.commonAreaRoutes(r)
			s.openRoutes(r)
			s.airconRoutes(r)
			s.settlementRoutes(r)
			s.bulkRoutes(r)
			s.archiveRoutes(r)
			s.appContentRoutes(r)
			s.analyticsRoutes(r)
		})
		s.driverRoutes(r)
	})
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, http.StatusNotFound, CodeNotFound, "no route "+r.URL.Path)
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, http.StatusMethodNotAllowed, CodeMalformed, r.Method+" not allowed on "+r.URL.Path)
	})
	s.router = r
	s.console = console.Handler()
	s.mobile = mobile.Handler()
	return s
}

// ServeHTTP makes the server an http.Handler. The operator console (static
// files, not API operations, so not in the OpenAPI document) is served at
// /console/, and / redirects there.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p := r.URL.Path; p == "/" || p == "/console" || strings.HasPrefix(p, "/console/") {
		s.console.ServeHTTP(w, r)
		return
	}
	if p := r.URL.Path; p == "/m" || strings.HasPrefix(p, "/m/") {
		s.mobile.ServeHTTP(w, r)
		return
	}
	s.router.ServeHTTP(w, r)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 only when PostgreSQL and Temporal both answer.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	checks := map[string]string{"postgres": "ok", "temporal": "ok"}
	status := http.StatusOK
	if err := s.cfg.DB.Ping(ctx); err != nil {
		checks["postgres"], status = err.Error(), http.StatusServiceUnavailable
	}
	if _, err := s.cfg.Temporal.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		checks["temporal"], status = err.Error(), http.StatusServiceUnavailable
	}
	writeJSON(w, status, checks)
}

type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "voltflow_http_requests_total", Help: "HTTP requests by route and status."},
			[]string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "voltflow_http_request_seconds", Help: "HTTP request latency by route.",
			Buckets: prometheus.DefBuckets}, []string{"method", "route"}),
	}
	m.registry.MustRegister(m.requests, m.duration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// observe logs and measures every request by its route pattern (not the
// raw path, which would explode the label set).
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		route := chi.RouteContext(r.Context()).RoutePattern()
		if route == "" {
			route = "unmatched"
		}
		status := ww.Status()
		if status == 0 {
			status = http.StatusOK
		}
		s.metrics.requests.WithLabelValues(r.Method, route, strconv.Itoa(status)).Inc()
		s.metrics.duration.WithLabelValues(r.Method, route).Observe(time.Since(start).Seconds())
		s.log.Debug("http", "method", r.Method, "path", r.URL.Path, "status", status,
			"ms", time.Since(start).Milliseconds(), "request_id", middleware.GetReqID(r.Context()))
	})
}
