package main

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	tlog "go.temporal.io/server/common/log"
	"go.temporal.io/server/common/membership/static"
	"go.temporal.io/server/common/primitives"
	"go.temporal.io/server/temporal"

	// Registers the postgres12_pgx SQL plugin with the persistence layer.
	_ "go.temporal.io/server/common/persistence/sql/sqlplugin/postgresql"
)

const (
	sqlPlugin   = "postgres12_pgx"
	clusterName = "active"

	// Ports derived from --port-base, so two servers with different bases can
	// share a machine. Membership ports are unused with static hosts but must
	// still be distinct.
	offFrontendHTTP       = 0
	offFrontendMembership = 1
	offHistoryGRPC        = 2
	offHistoryMembership  = 3
	offMatchingGRPC       = 4
	offMatchingMembership = 5
	offWorkerGRPC         = 6
	offWorkerMembership   = 7
	portSpan              = 8

	// Stay below the usual Linux ephemeral range (32768+), so an outgoing
	// connection can never already hold one of our ports.
	maxPort = 32767
)

// ports lists every port this process listens on, and checks they are valid
// and distinct.
func (o *options) ports() (map[string]int, error) {
	p := map[string]int{
		"frontend-port": o.frontendPort,
		"pg-port":       o.pgPort,
	}
	if o.uiPort != 0 {
		p["ui-port"] = o.uiPort
	}
	for i := range portSpan {
		p[fmt.Sprintf("port-base+%d", i)] = o.portBase + i
	}
	seen := map[int]string{}
	for name, port := range p {
		if name == "pg-port" {
			// PostgreSQL may live elsewhere; only require it to be a valid port.
			if port < 1 || port > 65535 {
				return nil, fmt.Errorf("--pg-port %d out of range", port)
			}
			continue
		}
		if port < 1 || port > maxPort {
			return nil, fmt.Errorf("%s: port %d must be between 1 and %d", name, port, maxPort)
		}
		if other, ok := seen[port]; ok {
			return nil, fmt.Errorf("port %d used twice (%s and %s)", port, other, name)
		}
		seen[port] = name
	}
	if o.pgHost == o.ip || o.pgHost == "localhost" {
		if name, ok := seen[o.pgPort]; ok {
			return nil, fmt.Errorf("--pg-port %d clashes with %s", o.pgPort, name)
		}
	}
	return p, nil
}

func hostPort(host string, port int) string {
	return net.JoinHostPort(host, strconv.Itoa(port))
}

// sqlConfig describes one of the two PostgreSQL databases.
func (o *options) sqlConfig(dbName string) *config.SQL {
	return &config.SQL{
		PluginName:      sqlPlugin,
		DatabaseName:    dbName,
		ConnectAddr:     hostPort(o.pgHost, o.pgPort),
		ConnectProtocol: "tcp",
		User:            o.pgUser,
		Password:        o.pgPassword,
		MaxConns:        20,
		MaxIdleConns:    20,
		MaxConnLifetime: time.Hour,
	}
}

// serverConfig builds the whole server configuration in code, so no YAML
// files have to ship with the binary.
func serverConfig(o *options) *config.Config {
	rpc := func(grpc, membership, httpPort int) config.Service {
		return config.Service{RPC: config.RPC{
			GRPCPort:       grpc,
			MembershipPort: membership,
			BindOnIP:       o.ip,
			HTTPPort:       httpPort,
		}}
	}
	b := o.portBase
	frontend := hostPort(o.ip, o.frontendPort)
	return &config.Config{
		Global: config.Global{
			Membership: config.Membership{MaxJoinDuration: 30 * time.Second, BroadcastAddress: o.ip},
		},
		Persistence: config.Persistence{
			DefaultStore:     "default",
			VisibilityStore:  "visibility",
			NumHistoryShards: int32(o.historyShards),
			DataStores: map[string]config.DataStore{
				"default":    {SQL: o.sqlConfig(o.db)},
				"visibility": {SQL: o.sqlConfig(o.visibilityDB)},
			},
		},
		ClusterMetadata: &cluster.Config{
			EnableGlobalNamespace:    false,
			FailoverVersionIncrement: 10,
			MasterClusterName:        clusterName,
			CurrentClusterName:       clusterName,
			ClusterInformation: map[string]cluster.ClusterInformation{
				clusterName: {
					Enabled:                true,
					InitialFailoverVersion: 1,
					RPCAddress:             frontend,
					HTTPAddress:            hostPort(o.ip, b+offFrontendHTTP),
				},
			},
		},
		DCRedirectionPolicy: config.DCRedirectionPolicy{Policy: "noop"},
		Services: map[string]config.Service{
			string(primitives.FrontendService): rpc(o.frontendPort, b+offFrontendMembership, b+offFrontendHTTP),
			string(primitives.HistoryService):  rpc(b+offHistoryGRPC, b+offHistoryMembership, 0),
			string(primitives.MatchingService): rpc(b+offMatchingGRPC, b+offMatchingMembership, 0),
			string(primitives.WorkerService):   rpc(b+offWorkerGRPC, b+offWorkerMembership, 0),
		},
		Archival: config.Archival{
			History:    config.HistoryArchival{State: config.ArchivalDisabled},
			Visibility: config.VisibilityArchival{State: config.ArchivalDisabled},
		},
		NamespaceDefaults: config.NamespaceDefaults{
			Archival: config.ArchivalNamespaceDefaults{
				History:    config.HistoryArchivalNamespaceDefaults{State: config.ArchivalDisabled},
				Visibility: config.VisibilityArchivalNamespaceDefaults{State: config.ArchivalDisabled},
			},
		},
		// The system worker reaches the frontend here.
		PublicClient: config.PublicClient{HostPort: frontend},
	}
}

// startServer starts frontend, history, matching and worker in this process.
// Membership is static (one host per service), so no ringpop gossip is needed.
func startServer(o *options, logger tlog.Logger) (temporal.Server, error) {
	b := o.portBase
	hosts := map[primitives.ServiceName]static.Hosts{
		primitives.FrontendService: static.SingleLocalHost(hostPort(o.ip, o.frontendPort)),
		primitives.HistoryService:  static.SingleLocalHost(hostPort(o.ip, b+offHistoryGRPC)),
		primitives.MatchingService: static.SingleLocalHost(hostPort(o.ip, b+offMatchingGRPC)),
		primitives.WorkerService:   static.SingleLocalHost(hostPort(o.ip, b+offWorkerGRPC)),
	}
	srv, err := temporal.NewServer(
		temporal.WithConfig(serverConfig(o)),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(hosts),
		temporal.WithLogger(logger),
		// Defaults for everything; an explicit client keeps the server from
		// looking for a dynamic-config file. Add dev overrides here.
		temporal.WithDynamicConfigClient(dynamicconfig.StaticClient{}),
	)
	if err != nil {
		return nil, fmt.Errorf("create temporal server: %w", err)
	}
	// Start returns once all services run (it does not block: no InterruptOn).
	if err := srv.Start(); err != nil {
		// Some services may already be up; release their ports and connections.
		_ = srv.Stop()
		return nil, fmt.Errorf("start temporal server: %w", err)
	}
	return srv, nil
}
