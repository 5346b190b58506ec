import BlockingThreads
import Foundation
import Testing

/// The pool blocking work runs on (S3 transfers, file I/O, parses): jobs that block all run at once up to
/// the limit, however few the cores (a concurrent Dispatch queue on Linux runs about one per core and adds
/// a thread a second), never more than the limit, and idle threads end.
@Suite struct BlockingThreadPoolTests {
    /// Counts jobs running at once; each job blocks until `release` is set, `target` jobs have run at once,
    /// or a deadline passes.
    final class Gate: @unchecked Sendable {
        let condition = NSCondition()
        let target: Int
        var running = 0
        var most = 0
        var release = false

        init(target: Int = .max) { self.target = target }

        func job(deadline: Date) {
            condition.withLock {
                running += 1
                most = max(most, running)
                condition.broadcast()
                while !release, most < target, condition.wait(until: deadline) {}
                running -= 1
            }
        }

        /// Waits until `count` jobs run at once (true) or the deadline passes (false).
        func waitForRunning(_ count: Int, deadline: Date) -> Bool {
            condition.withLock {
                while running < count { if !condition.wait(until: deadline) { return running >= count } }
                return true
            }
        }

        func open() { condition.withLock { release = true; condition.broadcast() } }
    }

    @Test func blockingJobsRunAtOnceUpToTheLimit() async throws {
        let pool = BlockingThreadPool(name: "test.pool", limit: 24)
        let gate = Gate()
        let deadline = Date(timeIntervalSinceNow: 20)
        for _ in 0..<24 { pool.submit { gate.job(deadline: deadline) } }
        // 24 jobs that each block until all 24 run: on a pool that ran one job per core they could not.
        let allRunning = gate.waitForRunning(24, deadline: Date(timeIntervalSinceNow: 5))
        gate.open()
        #expect(allRunning, "only \(gate.most) of 24 blocking jobs ran at once")
        #expect(pool.threadCount <= 24)
    }

    @Test func neverMoreThanTheLimitAndTheRestWaitTheirTurn() async throws {
        let pool = BlockingThreadPool(name: "test.pool", limit: 3)
        let gate = Gate(target: 3)
        let results = try await withThrowingTaskGroup(of: Int.self) { group in
            for k in 0..<12 {
                group.addTask {
                    try await pool.run {
                        gate.job(deadline: Date(timeIntervalSinceNow: 5))
                        return k
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.sorted() == Array(0..<12))
        #expect(gate.most == 3)
        #expect(pool.threadCount == 3)
    }

    @Test func idleThreadsEndAndTheNextJobStartsOne() async throws {
        let pool = BlockingThreadPool(name: "test.pool", limit: 4, idleSeconds: 0.05)
        #expect(try await pool.run { 7 } == 7)
        var waited = 0
        while pool.threadCount > 0, waited < 200 {
            try await Task.sleep(for: .milliseconds(10))
            waited += 1
        }
        #expect(pool.threadCount == 0)
        struct Boom: Error {}
        await #expect(throws: Boom.self) { try await pool.run { throw Boom() } }
        #expect(try await pool.run { "again" } == "again")
    }

    @Test func mallocArenasAreCappedUnlessTheEnvironmentSaysHowMany() {
        #if os(Linux)
        #expect(MallocArenas.limit(to: 2, environment: [:]))
        #endif
        #expect(!MallocArenas.limit(to: 2, environment: ["MALLOC_ARENA_MAX": "8"]))
    }
}
