import Foundation

/// Threads for work that blocks (a transfer's `curl_easy_perform`, a file write, a parse), started as work
/// arrives up to `limit` and parked while idle; an idle thread ends after `idleSeconds`.
///
/// Why not a concurrent `DispatchQueue`: on Linux, Dispatch sizes its pool to the cores and adds a thread
/// about once a second while all of them block, so on a 2-core pod eight S3 requests issued at once run two
/// at a time for the first seconds of a run, and an endpoint's latency per request is paid serially. Here a
/// job waits for a thread only when `limit` are busy. Callers bound their own CPU-bound work (the ingest
/// runs `ingest.threads` parses at once), so the pool is sized for blocking, not for cores.
package final class BlockingThreadPool: @unchecked Sendable {
    package let name: String
    package let limit: Int
    package let idleSeconds: Double
    // Guarded by `condition`.
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []
    private var head = 0
    private var threads = 0
    private var idle = 0

    package init(name: String, limit: Int, idleSeconds: Double = 30) {
        self.name = name
        self.limit = max(1, limit)
        self.idleSeconds = idleSeconds
    }

    /// Threads started and not yet ended (for tests and diagnostics).
    package var threadCount: Int { condition.withLock { threads } }

    /// Runs `job` on a pool thread: an idle one, a new one while fewer than `limit` run, else the first
    /// to finish its current job.
    package func submit(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        jobs.append(job)
        // Start a thread when the waiting jobs outnumber the parked threads about to take them.
        let start = jobs.count - head > idle && threads < limit
        if start { threads += 1 }
        condition.signal()
        condition.unlock()
        if start {
            let thread = Thread { [self] in work() }
            thread.name = name
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    /// Runs `work` on a pool thread and returns its result to the awaiting task.
    package func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            submit { continuation.resume(with: Result { try work() }) }
        }
    }

    private func work() {
        condition.lock()
        while true {
            while head == jobs.count {
                idle += 1
                let signalled = condition.wait(until: Date(timeIntervalSinceNow: idleSeconds))
                idle -= 1
                if !signalled, head == jobs.count {
                    threads -= 1
                    condition.unlock()
                    return
                }
            }
            let job = jobs[head]
            head += 1
            if head == jobs.count {
                jobs.removeAll(keepingCapacity: true)
                head = 0
            } else if head >= 1024, head * 2 >= jobs.count {
                jobs.removeFirst(head)
                head = 0
            }
            condition.unlock()
            job()
            condition.lock()
        }
    }
}
