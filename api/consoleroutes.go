package api

import "github.com/go-chi/chi/v5"

// consoleRoutes are the summaries the operator console reads (issue 18).
func (s *Server) consoleRoutes(r chi.Router) {
}
