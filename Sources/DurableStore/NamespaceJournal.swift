import NIOCore
import SessionCore

/// One namespace's view of the shared journal: the `SessionJournal` its `MemoryStore` records
/// to. Every namespace shares one log (and its fsyncs); each record names its namespace.
struct NamespaceJournal: SessionJournal {
    let journal: DurableJournal
    let namespace: String

    func writeRefusal() -> SessionStoreError? { journal.writeRefusal() }

    func record(_ change: JournalChange) -> JournalTicket { journal.record(change, namespace: namespace) }

    func whenDurable(_ ticket: JournalTicket, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        journal.whenDurable(ticket, on: eventLoop)
    }
}
