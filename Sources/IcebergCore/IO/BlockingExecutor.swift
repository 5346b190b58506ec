import Dispatch

/// Runs blocking work (file system calls, SQLite) on dedicated threads, never on Swift's cooperative pool,
/// and hands the result back to the awaiting task.
package enum BlockingExecutor {
    /// A concurrent queue whose threads may block; Dispatch grows it as work blocks.
    static let queue = DispatchQueue(label: "iceberg-ingest.blocking-io", qos: .utility, attributes: .concurrent)

    /// Runs `work` on the blocking queue and returns its result.
    package static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try work() })
            }
        }
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
