import BlockingThreads
import Dispatch

/// Runs blocking work (file system calls, SQLite, parsing) on dedicated threads, never on Swift's
/// cooperative pool, and hands the result back to the awaiting task.
package enum BlockingExecutor {
    /// Threads that may block, started as work arrives (up to 64 at once; see ``BlockingThreadPool`` for why
    /// not a Dispatch queue). Callers bound their CPU-bound work themselves.
    package static let pool = BlockingThreadPool(name: "iceberg-ingest.blocking", limit: 64)

    /// Runs `work` on the blocking pool and returns its result.
    package static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await pool.run(work)
    }

    /// Runs `work` on a serial `queue` (for a resource that must not be used concurrently, like a SQLite handle).
    package static func run<T: Sendable>(on queue: DispatchQueue, _ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try work() })
            }
        }
    }
}
