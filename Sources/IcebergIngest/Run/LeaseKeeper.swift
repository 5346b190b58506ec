import Checkpoint
import Foundation
import IcebergCore
import Logging
import Synchronization

/// Holds this source shard's lease (``LeaseStore``) while a run or an evolution works: renews it in the
/// background every third of its time, and lets each commit check, just before the catalog swap, that the
/// lease is still ours with at least a third of its time left. A runner paused past that point (a stopped
/// VM, a long GC-like stall) finds out there and stops without committing; the runner that took over
/// discards what it left.
final class LeaseKeeper: Sendable {
    let store: LeaseStore
    private let logger: Logger
    private let state: Mutex<State>

    private struct State {
        var held: HeldLease
        var lost: CheckpointError?
        var renewal: Task<Void, Never>?
        var released = false
        /// The renewal being written (the background task's or an inline one): a second caller awaits this
        /// one instead of writing a record of its own (two records of one holder would each find the other
        /// newer), and instead of skipping (a starved background renewal would leave the commit without).
        var inFlight: Task<Void, any Error>?
    }

    private init(store: LeaseStore, held: HeldLease, logger: Logger) {
        self.store = store
        self.logger = logger
        state = Mutex(State(held: held))
    }

    /// The lease as taken (for logs and the run summary).
    var held: HeldLease { state.withLock { $0.held } }

    /// Takes the lease, waiting up to `waitSeconds` for a live holder to finish (nil: do not wait), and
    /// starts renewing it. A `stop` requested while waiting ends the wait at once with the holder's error.
    static func acquire(store: LeaseStore, waitSeconds: Double?, logger: Logger, stop: StopRequest = StopRequest()) async throws -> LeaseKeeper {
        // Within 0 and the longest wait validation allows: a huge, infinite or NaN wait must not trap as Int64.
        let deadline = waitSeconds.map { ContinuousClock.now + .milliseconds(Int64($0 > 0 ? min($0, IngestConfiguration.maxLeaseWaitSeconds) * 1000 : 0)) }
        var announced = false
        while true {
            do {
                let held = try await store.acquire()
                if let previous = held.takenOverFrom {
                    logger.notice("took over the lease of \(previous.describe(nowMillis: store.clock())): recovering what it left")
                }
                let keeper = LeaseKeeper(store: store, held: held, logger: logger)
                keeper.startRenewing()
                return keeper
            } catch let error as CheckpointError where error.code == .leaseHeld {
                guard let deadline, ContinuousClock.now < deadline, !stop.isRequested else { throw error }
                if !announced {
                    logger.notice("waiting for the lease: \(error.message)")
                    announced = true
                }
                // In steps, so that a stop request (SIGTERM) ends the wait at once rather than at the grace's end.
                let next = ContinuousClock.now + .milliseconds(max(250, min(5_000, store.ttlMillis / 4)))
                while ContinuousClock.now < next, !stop.isRequested { try await Task.sleep(for: .milliseconds(50)) }
            }
        }
    }

    private func startRenewing() {
        let interval = Duration.milliseconds(max(100, store.ttlMillis / 3))
        let task = Task { [self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                if Task.isCancelled { return }
                do {
                    try await renew()
                } catch let error as CheckpointError where error.code == .leaseLost {
                    return
                } catch {
                    // A failed write (network): try again at the next interval; the check before each
                    // commit refuses to commit once too little of the lease is left.
                    logger.warning("could not renew the lease: \(error)")
                }
            }
        }
        state.withLock { $0.renewal = task }
    }

    /// Throws ``CheckpointError/Code/leaseLost`` unless the lease is ours with a third of its time left.
    /// Synchronous: it runs just before each catalog swap.
    func check() throws {
        let (held, lost) = state.withLock { ($0.held, $0.lost) }
        if let lost { throw lost }
        let left = held.record.expiresMillis - store.clock()
        if left < store.ttlMillis / 3 {
            throw CheckpointError(
                .leaseLost,
                "the lease of this shard has \(max(0, left)) ms left (renewals failed or the process was paused): not committing")
        }
    }

    /// Before a commit starts: renews the lease here, in the run's own task, when a third of its time has
    /// gone (the background renewal may be starved of threads by a busy process), then asks the store that
    /// the newest record is still ours.
    func verify() async throws {
        try await renewIfDue()
        try check()
        try await store.verify(held, marginMillis: store.ttlMillis / 3)
    }

    /// Renews now when less than two thirds of the lease is left (called between objects and before commits).
    func renewIfDue() async throws {
        let (current, lost) = state.withLock { ($0.held, $0.lost) }
        if let lost { throw lost }
        guard current.record.expiresMillis - store.clock() < store.ttlMillis * 2 / 3 else { return }
        try await renew()
    }

    /// One renewal; a lost lease is remembered (every later check throws it).
    private func renew() async throws {
        let (task, lost): (Task<Void, any Error>?, CheckpointError?) = state.withLock { state in
            guard !state.released, state.lost == nil else { return (nil, state.lost) }
            if let running = state.inFlight { return (running, nil) }
            let current = state.held
            let task = Task<Void, any Error> { [self] in
                do {
                    let renewed = try await store.renew(current)
                    self.state.withLock {
                        $0.held = renewed
                        $0.inFlight = nil
                    }
                } catch {
                    self.state.withLock { state in
                        state.inFlight = nil
                        if let lost = error as? CheckpointError, lost.code == .leaseLost { state.lost = lost }
                    }
                    throw error
                }
            }
            state.inFlight = task
            return (task, nil)
        }
        if let lost { throw lost }
        guard let task else { return }
        do {
            try await task.value
        } catch let error as CheckpointError where error.code == .leaseLost {
            logger.error("\(error.message)")
            throw error
        }
    }

    /// Stops renewing and lets go, so the next runner starts at once (not after the lease expires). A lost
    /// lease is left to its new holder.
    func release() async {
        let (task, wasReleased) = state.withLock { state -> (Task<Void, Never>?, Bool) in
            defer { state.released = true }
            return (state.renewal, state.released)
        }
        task?.cancel()
        await task?.value  // a renewal being written finishes first
        let (held, lost) = state.withLock { ($0.held, $0.lost) }
        guard !wasReleased, lost == nil else { return }
        do {
            try await store.release(held)
        } catch {
            logger.warning("could not release the lease (the next runner takes it over when it expires): \(error)")
        }
    }
}

extension Ingestor {
    /// The lease store of this source shard in `table`.
    func leaseStore(for table: Table) -> LeaseStore {
        LeaseStore(io: table.io, directory: checkpointStore(for: table).directory + "lease/", ttlMillis: configuration.leaseMillis)
    }

    /// Runs `body` holding this shard's lease: taken first (or ``CheckpointError/Code/leaseHeld``), renewed
    /// meanwhile, released after, whatever `body` does.
    func withLease<T>(_ table: Table, _ body: (LeaseKeeper) async throws -> T) async throws -> T {
        let keeper = try await LeaseKeeper.acquire(
            store: leaseStore(for: table), waitSeconds: configuration.leaseWaitSeconds, logger: logger, stop: stop)
        do {
            let result = try await body(keeper)
            await keeper.release()
            return result
        } catch {
            await keeper.release()
            throw error
        }
    }
}
