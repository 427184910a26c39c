import SessionCore

/// What a request asks for, once its method and path are understood.
public enum Endpoint: Sendable, Hashable {
    case createSession
    case readSession(SessionID)
    case replaceSession(SessionID)
    case patchSession(SessionID)
    case deleteSession(SessionID)
    case touchSession(SessionID)
    case rotateSession(SessionID)
    case listSubjectSessions(Subject)
    case revokeSubjectSessions(Subject)
    case revokeSubjectSession(Subject, SessionHandle)
    case livez
    case readyz
    case openAPIDocument
}
