package dispatch

// graph is a small min-cost max-flow network (successive shortest paths with SPFA); plans have a
// few dozen vehicles and a few hundred slots, so this is fast enough and exact in whole Wh.
type graph struct {
	head []int
	to   []int
	next []int
	capa []int64
	cost []int64
	orig []int64
}

func newGraph(n int) *graph {
	h := make([]int, n)
	for i := range h {
		h[i] = -1
	}
	return &graph{head: h}
}

// addEdge adds u→v and its residual twin; it returns the forward edge's index.
func (g *graph) addEdge(u, v int, c, cost int64) int {
	e := len(g.to)
	g.to = append(g.to, v, u)
	g.capa = append(g.capa, c, 0)
	g.orig = append(g.orig, c, 0)
	g.cost = append(g.cost, cost, -cost)
	g.next = append(g.next, g.head[u], g.head[v])
	g.head[u], g.head[v] = e, e+1
	return e
}

func (g *graph) flow(e int) int64 { return g.orig[e] - g.capa[e] }

func (g *graph) minCostMaxFlow(s, t int) {
	n := len(g.head)
	const inf = int64(1) << 62
	dist := make([]int64, n)
	prev := make([]int, n)
	inq := make([]bool, n)
	for {
		for i := range dist {
			dist[i], prev[i] = inf, -1
		}
		dist[s] = 0
		queue := []int{s}
		inq[s] = true
		for len(queue) > 0 {
			u := queue[0]
			queue = queue[1:]
			inq[u] = false
			for e := g.head[u]; e >= 0; e = g.next[e] {
				if g.capa[e] > 0 && dist[u]+g.cost[e] < dist[g.to[e]] {
					v := g.to[e]
					dist[v], prev[v] = dist[u]+g.cost[e], e
					if !inq[v] {
						inq[v] = true
						queue = append(queue, v)
					}
				}
			}
		}
		if dist[t] == inf {
			return
		}
		push := inf
		for v := t; v != s; v = g.to[prev[v]^1] {
			if g.capa[prev[v]] < push {
				push = g.capa[prev[v]]
			}
		}
		for v := t; v != s; v = g.to[prev[v]^1] {
			g.capa[prev[v]] -= push
			g.capa[prev[v]^1] += push
		}
	}
}
