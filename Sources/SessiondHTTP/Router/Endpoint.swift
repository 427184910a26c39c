import SessionCore

/// What a request asks for, once its method and path are understood.
public enum Endpoint: Sendable, Hashable {
    case createSession
    case readSession(SessionID)
    case replaceSession(SessionID)
    case deleteSession(SessionID)
    case livez
    case readyz
    case openAPIDocument
}
