import NIOCore
import RedisClient
import Testing

/// The connection's FIFO of commands in flight on a manual clock, without a channel.
@Suite("Redis connection state machine: replies in order, deadlines, closing")
struct RedisConnectionStateMachineTests {
    private func at(_ milliseconds: Int64) -> NIODeadline { .uptimeNanoseconds(1_000_000_000 + UInt64(milliseconds) * 1_000_000) }

    @Test func repliesCompleteCommandsInOrderAndErrorsOnlyTheirOwn() {
        var machine = RedisConnectionStateMachine<Int>()
        guard case .write(armTimer: at(100)) = machine.send(1, deadline: at(100)) else { Issue.record("no timer armed"); return }
        guard case .write(armTimer: nil) = machine.send(2, deadline: at(150)) else { Issue.record("armed twice"); return }
        guard case let .fail(token, error) = machine.reply(.error("WRONGTYPE x")), token == 1, error.code == .serverError else {
            Issue.record("an error reply should fail its command")
            return
        }
        guard case let .succeed(token2, .simpleString("PONG")) = machine.reply(.simpleString("PONG")), token2 == 2 else {
            Issue.record("expected the second command's reply")
            return
        }
        #expect(machine.pendingCount == 0)
    }

    @Test func theTimerMovesToTheNextCommandWhenTheOldestWasAnswered() {
        var machine = RedisConnectionStateMachine<Int>()
        _ = machine.send(1, deadline: at(100))
        _ = machine.send(2, deadline: at(180))
        _ = machine.reply(.simpleString("OK"))
        guard case .rearm(at(180)) = machine.timerFired(now: at(100)) else { Issue.record("expected a re-arm"); return }
        guard case let .failAllAndClose(tokens, error) = machine.timerFired(now: at(180)) else { Issue.record("expected a timeout"); return }
        #expect(tokens == [2] && error.code == .timeout)
    }

    @Test func aTimeoutFailsEveryCommandBehindItAndLaterOnes() {
        var machine = RedisConnectionStateMachine<Int>()
        _ = machine.send(1, deadline: at(100))
        _ = machine.send(2, deadline: at(500))
        guard case let .failAllAndClose(tokens, _) = machine.timerFired(now: at(100)) else { Issue.record("expected a timeout"); return }
        #expect(tokens == [1, 2])
        guard case let .fail(error) = machine.send(3, deadline: at(900)) else { Issue.record("a closed connection took a command"); return }
        #expect(error.code == .timeout)
    }

    @Test func aReplyWithNothingPendingIsAProtocolError() {
        var machine = RedisConnectionStateMachine<Int>()
        guard case let .failAllAndClose(_, error) = machine.reply(.simpleString("OK")) else { Issue.record("accepted"); return }
        #expect(error.code == .protocolError)
    }

    @Test func closingFailsWhatIsPending() {
        var machine = RedisConnectionStateMachine<Int>()
        _ = machine.send(1, deadline: at(100))
        #expect(machine.closed(.connectionClosed("gone")) == [1])
        guard case let .fail(error) = machine.send(2, deadline: at(100)) else { Issue.record("took a command"); return }
        #expect(error.code == .connectionClosed)
    }
}
