import Dispatch
import Foundation

/// Hands parsed batches to the Parquet writers on a thread of their own, so that encoding one batch
/// overlaps parsing the next (two cores: one parses, one encodes). At most `depth` batches wait, which
/// bounds memory; `drain()` waits for all and rethrows the first encoding error.
///
/// Used by the run's task through the blocking executor (it blocks when the queue is full), never from
/// Swift's cooperative pool. Shared state is guarded by a lock, hence `@unchecked Sendable`.
final class EncodingPipeline: @unchecked Sendable {
    let writer: PartitionedDataWriter
    private let queue = DispatchQueue(label: "iceberg-ingest.encode")
    private let slots: DispatchSemaphore
    private let lock = NSLock()
    private var failure: (any Error)?
    private var nanos: UInt64 = 0

    init(writer: PartitionedDataWriter, depth: Int = 2) {
        self.writer = writer
        slots = DispatchSemaphore(value: max(1, depth))
    }

    /// Queues a batch for encoding; throws an earlier batch's encoding error. `source` numbers the input
    /// the rows came from (see ``PartitionedDataWriter/write(_:source:)``).
    func submit(_ batch: RecordBatch, source: Int) throws {
        try rethrowFailure()
        slots.wait()
        queue.async { [self] in
            defer { slots.signal() }
            guard lock.withLock({ failure == nil }) else { return }
            let started = DispatchTime.now().uptimeNanoseconds
            do {
                try writer.write(batch, source: source)
            } catch {
                lock.withLock { if failure == nil { failure = error } }
            }
            lock.withLock { nanos += DispatchTime.now().uptimeNanoseconds - started }
        }
    }

    /// Waits until every queued batch is written; throws the first encoding error.
    func drain() throws {
        queue.sync {}
        try rethrowFailure()
    }

    /// Seconds spent encoding so far.
    var encodeSeconds: Double { lock.withLock { Double(nanos) / 1e9 } }

    private func rethrowFailure() throws {
        if let error = lock.withLock({ failure }) { throw error }
    }
}
