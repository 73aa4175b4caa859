package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"google.golang.org/protobuf/types/known/durationpb"
)

const (
	namespaceRetention = 7 * 24 * time.Hour
	readyTimeout       = 2 * time.Minute
	pollInterval       = 200 * time.Millisecond
)

// prepareNamespace registers the namespace and the custom search attributes if
// missing, and returns only once the frontend can serve both, so the ready
// line means workers and visibility queries work straight away.
func prepareNamespace(ctx context.Context, o *options) error {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()

	c, err := client.DialContext(ctx, client.Options{
		HostPort:  hostPort(o.ip, o.frontendPort),
		Namespace: o.namespace,
		Logger:    sdklog.NewStructuredLogger(slog.Default()),
	})
	if err != nil {
		return fmt.Errorf("dial frontend: %w", err)
	}
	defer c.Close()
	wf := c.WorkflowService()

	_, err = wf.RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
		Namespace:                        o.namespace,
		WorkflowExecutionRetentionPeriod: durationpb.New(namespaceRetention),
	})
	var exists *serviceerror.NamespaceAlreadyExists
	switch {
	case err == nil:
		slog.Info("namespace registered", "namespace", o.namespace)
	case errors.As(err, &exists):
	default:
		return fmt.Errorf("register namespace %q: %w", o.namespace, err)
	}

	// A plain DescribeNamespace reads the database and succeeds at once; the
	// weakly consistent one reads the frontend's namespace cache, which is what
	// StartWorkflowExecution uses and which refreshes only every few seconds.
	err = poll(ctx, func() error {
		_, err := wf.DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{
			Namespace:       o.namespace,
			WeakConsistency: true,
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("wait for namespace %q: %w", o.namespace, err)
	}
	slog.Info("namespace visible", "namespace", o.namespace, "elapsed", time.Since(start).Round(time.Millisecond))

	if len(o.searchAttributes) == 0 {
		return nil
	}
	if err := addSearchAttributes(ctx, c, o); err != nil {
		return err
	}
	slog.Info("search attributes usable", "names", o.searchAttributes, "elapsed", time.Since(start).Round(time.Millisecond))
	return nil
}

// addSearchAttributes registers the missing Keyword search attributes and
// waits until a visibility query using all of them is accepted.
func addSearchAttributes(ctx context.Context, c client.Client, o *options) error {
	existing, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{
		Namespace: o.namespace,
	})
	if err != nil {
		return fmt.Errorf("list search attributes: %w", err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	clauses := make([]string, 0, len(o.searchAttributes))
	for _, name := range o.searchAttributes {
		clauses = append(clauses, fmt.Sprintf("%s = ''", name))
		if t, ok := existing.GetCustomAttributes()[name]; ok {
			if t != enumspb.INDEXED_VALUE_TYPE_KEYWORD {
				return fmt.Errorf("search attribute %s exists with type %s, want Keyword", name, t)
			}
			continue
		}
		missing[name] = enumspb.INDEXED_VALUE_TYPE_KEYWORD
	}

	if len(missing) > 0 {
		// AlreadyExists can only come from a concurrent registration; fine.
		_, err = c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
			Namespace:        o.namespace,
			SearchAttributes: missing,
		})
		var exists *serviceerror.AlreadyExists
		if err != nil && !errors.As(err, &exists) {
			return fmt.Errorf("add search attributes %v: %w", o.searchAttributes, err)
		}
	}

	// The name-to-column mapping lives in the namespace record, so queries
	// accept the new names only after the namespace cache refreshes.
	query := strings.Join(clauses, " AND ")
	err = poll(ctx, func() error {
		_, err := c.WorkflowService().ListWorkflowExecutions(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: o.namespace,
			PageSize:  1,
			Query:     query,
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("wait for search attributes %v: %w", o.searchAttributes, err)
	}
	return nil
}

// poll calls fn until it succeeds or ctx ends; on timeout it reports fn's
// last error, which says more than "deadline exceeded".
func poll(ctx context.Context, fn func() error) error {
	for {
		err := fn()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %w)", ctx.Err(), err)
		case <-time.After(pollInterval):
		}
	}
}
