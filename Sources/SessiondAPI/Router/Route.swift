/// The API's routes, by template: what the router matches, and the `route` label of metrics
/// and access log lines (never a sid, subject or handle).
public enum Route: String, Sendable, CaseIterable {
    case sessions = "/sessions"
    case session = "/sessions/{sid}"
    case touch = "/sessions/{sid}/touch"
    case rotate = "/sessions/{sid}/rotate"
    case subjectSessions = "/subjects/{subject}/sessions"
    case subjectSession = "/subjects/{subject}/sessions/{handle}"
    case livez = "/livez"
    case readyz = "/readyz"
    case metrics = "/metrics"
    case openAPIDocument = "/openapi.yaml"
    case events = "/events"
    /// No route matched, or no request head was read.
    case unmatched = "-"
}
