import Synchronization

/// A request that runs stop gracefully: no new object is started, the objects read since the last commit are
/// committed (so the work of a pod's last minutes is kept), the rest is left for the next run, and the run
/// returns its summary with ``RunSummary/stopped`` set. The executable requests ``process`` on SIGTERM and
/// SIGINT; a library caller can request it too, or give an ingestor a request of its own.
///
/// ```swift
/// let summary = try await ingestor.run()        // elsewhere: StopRequest.process.request()
/// if summary.stopped { print("stopped after \(summary.objectsIngested) objects; the next run goes on") }
/// ```
public final class StopRequest: Sendable {
    private let requested = Mutex(false)

    public init() {}

    /// The one the executable's signal handler requests, and every ``Ingestor`` observes unless given another.
    public static let process = StopRequest()

    public func request() { requested.withLock { $0 = true } }

    public var isRequested: Bool { requested.withLock { $0 } }
}
