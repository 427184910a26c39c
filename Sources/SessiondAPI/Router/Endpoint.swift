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
    case events
    case livez
    case readyz
    case openAPIDocument
    case metrics
}

extension Endpoint {
    /// The handle of the session the endpoint names (by sid or handle), for logs.
    var handle: SessionHandle? {
        switch self {
        case let .readSession(id), let .replaceSession(id), let .patchSession(id), let .deleteSession(id), let .touchSession(id),
             let .rotateSession(id):
            return SessionHandle(id)
        case let .revokeSubjectSession(_, handle):
            return handle
        default:
            return nil
        }
    }
}
