import NIOCore
import RedisClient
import Testing

/// Every rule of the pool's state machine on a manual clock: no socket, no timer.
@Suite("Redis pool state machine: waiting, deadlines, backoff, in-flight cap, writability")
struct RedisLoopPoolStateMachineTests {
    typealias Machine = RedisLoopPoolStateMachine
    typealias Action = Machine.Action

    /// Time in milliseconds from an arbitrary start.
    private func at(_ milliseconds: Int64) -> NIODeadline { .uptimeNanoseconds(1_000_000_000 + UInt64(milliseconds) * 1_000_000) }

    private func machine(slots: Int = 1, maxInFlight: Int = 1024, maxQueued: Int = 4096) -> Machine {
        Machine(configuration: .init(
            slots: slots, maxInFlight: maxInFlight, maxQueued: maxQueued, minBackoff: .milliseconds(50),
            maxBackoff: .milliseconds(400), stableAfter: .seconds(1)
        ))
    }

    private func connects(_ actions: [Action]) -> [(slot: Int, attempt: UInt64)] {
        actions.compactMap { if case let .connect(slot, attempt) = $0 { return (slot, attempt) } else { return nil } }
    }

    private func sent(_ actions: [Action]) -> [Machine.RequestID] {
        actions.compactMap { if case let .send(id, _, _) = $0 { return id } else { return nil } }
    }

    private func failed(_ actions: [Action]) -> [(ids: [Machine.RequestID], failure: Machine.Failure)] {
        actions.compactMap { if case let .fail(ids, failure) = $0 { return (ids, failure) } else { return nil } }
    }

    private func ticks(_ actions: [Action]) -> [NIODeadline] {
        actions.compactMap { if case let .scheduleTick(time) = $0 { return time } else { return nil } }
    }

    /// A machine with one slot up (attempt 1) at time 0.
    private func connectedMachine(slots: Int = 1, maxInFlight: Int = 1024, maxQueued: Int = 4096) -> Machine {
        var machine = self.machine(slots: slots, maxInFlight: maxInFlight, maxQueued: maxQueued)
        let actions = machine.request(1, deadline: at(1000), now: at(0))
        _ = machine.connected(slot: 0, attempt: connects(actions)[0].attempt, now: at(0))
        _ = machine.completed(slot: 0, attempt: connects(actions)[0].attempt, now: at(0))
        return machine
    }

    @Test func theFirstRequestOpensAConnectionAndWaitsForIt() {
        var machine = machine()
        let actions = machine.request(1, deadline: at(1000), now: at(0))
        #expect(connects(actions).count == 1)
        #expect(sent(actions).isEmpty && machine.waitingCount == 1)
        #expect(ticks(actions) == [at(1000)])
        let up = machine.connected(slot: 0, attempt: connects(actions)[0].attempt, now: at(10))
        #expect(sent(up) == [1] && machine.waitingCount == 0)
    }

    @Test func aRequestOnAReadyConnectionIsSentAtOnce() {
        var machine = connectedMachine()
        #expect(machine.request(2, deadline: at(2000), now: at(5)) == [.send(2, slot: 0, attempt: 1)])
    }

    @Test func aWaitingRequestFailsAtItsOwnDeadlineNotLater() {
        var machine = machine()
        let first = machine.request(1, deadline: at(1000), now: at(0))
        _ = machine.request(2, deadline: at(1500), now: at(500))
        // The connect hangs: nothing happens until the first deadline.
        let tick = machine.tick(now: at(1000))
        #expect(failed(tick).map(\.ids) == [[1]] && failed(tick).first?.failure == .timeout)
        #expect(ticks(tick) == [at(1500)])
        let second = machine.tick(now: at(1500))
        #expect(failed(second).map(\.ids) == [[2]])
        // The connection that finally comes up has nothing left to send.
        #expect(sent(machine.connected(slot: 0, attempt: connects(first)[0].attempt, now: at(1600))).isEmpty)
    }

    @Test func failedAttemptsBackOffDoublingUpToTheMaximum() {
        var machine = machine()
        var attempt = connects(machine.request(1, deadline: at(100_000), now: at(0)))[0].attempt
        var now: Int64 = 0
        var waits: [Int64] = []
        for _ in 0..<6 {
            let failure = machine.connectFailed(slot: 0, attempt: attempt, now: at(now))
            let next = ticks(failure).first ?? at(0)
            let wait = Int64((next.uptimeNanoseconds - at(now).uptimeNanoseconds) / 1_000_000)
            waits.append(wait)
            now += wait
            let retry = machine.tick(now: at(now))
            attempt = connects(retry)[0].attempt
        }
        #expect(waits == [50, 100, 200, 400, 400, 400])
        #expect(machine.isFailing)
    }

    @Test func requestsThatCannotOutliveTheBackoffFailAtOnce() {
        var machine = machine()
        var attempt = connects(machine.request(1, deadline: at(10_000), now: at(0)))[0].attempt
        var now: Int64 = 0
        for _ in 0..<4 {
            _ = machine.connectFailed(slot: 0, attempt: attempt, now: at(now))
            now += 400
            attempt = connects(machine.tick(now: at(now)))[0].attempt
        }
        _ = machine.connectFailed(slot: 0, attempt: attempt, now: at(now))  // next try at now + 400
        let short = machine.request(2, deadline: at(now + 100), now: at(now))
        #expect(failed(short).map(\.ids) == [[2]] && failed(short).first?.failure == .notConnected)
        #expect(machine.waitingCount == 1)  // request 1 can still see the next attempt
    }

    @Test func aConnectionDroppedRightAfterItsHandshakeBacksOff() {
        var machine = connectedMachine()
        let dropped = machine.connectionClosed(slot: 0, attempt: 1, now: at(100))
        #expect(connects(dropped).isEmpty)  // nothing waits: no reconnect yet
        let next = machine.request(2, deadline: at(5000), now: at(110))
        #expect(connects(next).isEmpty && ticks(next) == [at(150)])  // waits out 50 ms from the drop
        #expect(connects(machine.tick(now: at(150))).count == 1)
    }

    @Test func aConnectionThatWasUpLongerIsReopenedAtOnce() {
        var machine = connectedMachine()
        _ = machine.connectionClosed(slot: 0, attempt: 1, now: at(5000))
        let next = machine.request(2, deadline: at(6000), now: at(5001))
        #expect(connects(next).count == 1)
    }

    @Test func droppingRightAfterTheHandshakeKeepsDoublingTheWait() {
        var machine = connectedMachine()
        var now: Int64 = 0
        var attempt: UInt64 = 1
        var waits: [Int64] = []
        for id in 2..<6 {
            _ = machine.connectionClosed(slot: 0, attempt: attempt, now: at(now))
            let next = machine.request(Machine.RequestID(id), deadline: at(now + 100_000), now: at(now))
            let retry = ticks(next).first ?? at(0)
            waits.append(Int64((retry.uptimeNanoseconds - at(now).uptimeNanoseconds) / 1_000_000))
            now = Int64((retry.uptimeNanoseconds - at(0).uptimeNanoseconds) / 1_000_000)
            attempt = connects(machine.tick(now: at(now)))[0].attempt
            _ = machine.connected(slot: 0, attempt: attempt, now: at(now))
        }
        #expect(waits == [50, 100, 200, 400])
    }

    @Test func theInFlightCapHoldsRequestsBackUntilRepliesComeIn() {
        var machine = connectedMachine(maxInFlight: 2)
        #expect(sent(machine.request(2, deadline: at(1000), now: at(1))) == [2])
        #expect(sent(machine.request(3, deadline: at(1000), now: at(1))) == [3])
        let held = machine.request(4, deadline: at(1000), now: at(1))
        #expect(sent(held).isEmpty && machine.waitingCount == 1)
        #expect(sent(machine.completed(slot: 0, attempt: 1, now: at(2))) == [4])
    }

    @Test func anUnwritableConnectionGetsNothingUntilItDrains() {
        var machine = connectedMachine()
        _ = machine.writabilityChanged(slot: 0, attempt: 1, writable: false, now: at(1))
        #expect(sent(machine.request(2, deadline: at(1000), now: at(2))).isEmpty)
        #expect(sent(machine.writabilityChanged(slot: 0, attempt: 1, writable: true, now: at(3))) == [2])
    }

    @Test func theWaitQueueIsBounded() {
        var machine = machine(maxQueued: 2)
        _ = machine.request(1, deadline: at(1000), now: at(0))
        _ = machine.request(2, deadline: at(1000), now: at(0))
        let third = machine.request(3, deadline: at(1000), now: at(0))
        #expect(failed(third).map(\.ids) == [[3]] && failed(third).first?.failure == .overloaded)
    }

    @Test func requestsGoToTheLeastLoadedConnection() {
        var machine = machine(slots: 2)
        let first = machine.request(1, deadline: at(1000), now: at(0))
        let attempts = connects(first)
        #expect(attempts.count == 2)
        _ = machine.connected(slot: 0, attempt: attempts[0].attempt, now: at(1))  // takes request 1
        _ = machine.connected(slot: 1, attempt: attempts[1].attempt, now: at(1))
        #expect(machine.request(2, deadline: at(1000), now: at(2)) == [.send(2, slot: 1, attempt: attempts[1].attempt)])
    }

    @Test func eventsOfAnOldConnectionAreIgnored() {
        var machine = connectedMachine()
        _ = machine.connectionClosed(slot: 0, attempt: 1, now: at(5000))
        let attempt = connects(machine.request(2, deadline: at(9000), now: at(5000)))[0].attempt
        _ = machine.connected(slot: 0, attempt: attempt, now: at(5001))
        #expect(machine.connectionClosed(slot: 0, attempt: 1, now: at(5002)).isEmpty)
        #expect(machine.completed(slot: 0, attempt: 1, now: at(5002)).isEmpty)
        #expect(machine.readyCount == 1)
    }

    @Test func shutdownFailsTheWaitingAndEveryLaterRequest() {
        var machine = machine()
        _ = machine.request(1, deadline: at(1000), now: at(0))
        let actions = machine.shutdown()
        #expect(actions.contains(.closeAll))
        #expect(failed(actions).map(\.ids) == [[1]])
        #expect(machine.request(2, deadline: at(1000), now: at(1)) == [.fail([2], .shutDown)])
    }
}
