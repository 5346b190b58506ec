import Foundation
import Synchronization
import IcebergCore
import Parquet

/// A Parquet data file written to the local spool, ready to upload.
package struct SpooledDataFile: Sendable {
    /// Where the bytes are on the local disk.
    package var localPath: String
    /// The partition values (in the spec's field order).
    package var partition: [Literal?]
    package var metrics: ParquetFileMetrics
    /// The sources whose rows the file holds (the numbers passed to ``PartitionedDataWriter/write(_:source:)``),
    /// ascending: the lineage the checkpoint records.
    package var sources: [Int] = []

    /// The data file the table records once this file is at `location`: its partition and the metrics the
    /// writer gathered (sizes, value, null and NaN counts, bounds, split offsets), keyed by field id.
    package func dataFile(at location: String, spec: PartitionSpec) -> DataFile {
        let m = metrics
        return DataFile(
            filePath: location, fileFormat: "PARQUET", specID: spec.id, partition: partition, recordCount: m.recordCount,
            fileSizeInBytes: m.fileSize, columnSizes: m.columnSizes, valueCounts: m.valueCounts, nullValueCounts: m.nullValueCounts,
            nanValueCounts: m.nanValueCounts, lowerBounds: m.lowerBounds, upperBounds: m.upperBounds, splitOffsets: m.splitOffsets)
    }
}

/// Writes rows into Parquet files, one open file per partition, each rolled when it reaches the target
/// size. Files are written to a local spool directory and handed back when complete, to be uploaded.
///
/// Memory: each open file buffers at most one row group; when the buffered bytes of all open files pass
/// `memoryBudgetBytes`, the largest open file is closed early (a smaller file rather than an unbounded heap).
///
/// Not thread-safe: the run loop uses it from one task at a time (it is `@unchecked Sendable` so that
/// task can move it onto the blocking executor).
package final class PartitionedDataWriter: @unchecked Sendable {
    package struct Options: Sendable {
        /// Roll a file when it reaches this size (Iceberg's `write.target-file-size-bytes`, 512 MiB in Java;
        /// 128 MiB here by default).
        package var targetFileSizeBytes = 128 * 1024 * 1024
        /// Close the file buffering the most when the open files buffer more than this in memory.
        package var memoryBudgetBytes = 192 * 1024 * 1024
        package var parquet: ParquetWriterOptions = {
            var options = ParquetWriterOptions()
            // Row groups go to the spool file at 32 MiB (uncompressed), so open files hold little memory.
            options.rowGroupSizeBytes = 32 * 1024 * 1024
            return options
        }()
        package init() {}
    }

    /// Used by one thread at a time: the writer's owner, or the one thread ``finish()`` closes it on.
    private final class OpenFile: @unchecked Sendable {
        let writer: ParquetFileWriter<FileParquetOutput>
        let path: String
        var sources: Set<Int> = []
        init(writer: ParquetFileWriter<FileParquetOutput>, path: String) {
            self.writer = writer
            self.path = path
        }
    }

    package let layout: ColumnLayout
    package let router: PartitionRouter
    package let options: Options
    let spoolDirectory: String
    private var open: [[Literal?]: OpenFile] = [:]
    private var fileCounter = 0
    private var done: [SpooledDataFile] = []

    package init(layout: ColumnLayout, router: PartitionRouter, options: Options, spoolDirectory: String) {
        self.layout = layout
        self.router = router
        self.options = options
        self.spoolDirectory = spoolDirectory
    }

    /// Writes the batch's rows into their partitions' files; `source` numbers the input the rows came from
    /// (each file remembers which sources it holds).
    package func write(_ batch: RecordBatch, source: Int = 0) throws {
        guard batch.rowCount > 0 else { return }
        let groups = router.split(batch)
        for group in groups {
            let part = groups.count == 1 ? batch : batch.taking(rows: group.rows)
            let file = try openFile(for: group.partition)
            file.sources.insert(source)
            try file.writer.write(part.columnData())
            if file.writer.estimatedFileSize >= options.targetFileSizeBytes { try close(group.partition) }
        }
        // Keep the buffered row groups within budget.
        while open.values.reduce(0, { $0 + $1.writer.bufferedBytes }) > options.memoryBudgetBytes, open.count > 1,
            let largest = open.max(by: { $0.value.writer.bufferedBytes < $1.value.writer.bufferedBytes })
        {
            try close(largest.key)
        }
    }

    /// Files completed since the last call (rolled or closed).
    package func takeCompleted() -> [SpooledDataFile] {
        defer { done = [] }
        return done
    }

    /// The files ``finish(onClosed:)`` hands back, in its order, before any is closed: each one's partition
    /// and sources. A commit names and records them while their last row groups encode.
    package func finishing() -> [(partition: [Literal?], sources: [Int])] {
        done.map { ($0.partition, $0.sources) } + closingOrder().map { ($0.partition, $0.file.sources.sorted()) }
    }

    /// The open files in the order ``finish(onClosed:)`` closes and returns them (by spool path).
    private func closingOrder() -> [(partition: [Literal?], file: OpenFile)] {
        open.sorted { $0.value.path < $1.value.path }.map { ($0.key, $0.value) }
    }

    /// Closes every open file; returns all completed files not yet taken, in the order of ``finishing()``.
    /// Each open file still holds its last row group (often the whole file), whose encoding and compression
    /// are most of a commit's work. Its columns are encoded on every core, files in that order and each
    /// file's larger columns first, so the files complete one after another rather than all at the end, and
    /// one file with many columns uses every core too. `onClosed` hears of each file, with its index in that
    /// order, as soon as it is complete (the already completed ones first), on the thread that completed it:
    /// a commit uploads it while the next ones still encode.
    package func finish(onClosed: @Sendable (Int, SpooledDataFile) -> Void = { _, _ in }) throws -> [SpooledDataFile] {
        let closing = closingOrder()
        open = [:]
        for (index, file) in done.enumerated() { onClosed(index, file) }
        let first = done.count
        // Each file's last row group: its columns' sizes, its batches (each column's let go once encoded), and
        // the group without them for the file's completion.
        var sizes: [[Int]] = [], shells: [PendingRowGroup] = [], batches: [[[ColumnData]]] = []
        for (_, file) in closing {
            let last = file.writer.beginClose()
            sizes.append((0..<last.columnCount).map { last.bufferedBytes(column: $0) })
            let (columns, group) = last.separatingBatches()
            batches.append(columns)
            shells.append(group)
        }
        let groups = shells
        shells = []
        let tasks: [(file: Int, column: Int)] = sizes.enumerated().flatMap { index, sizes in
            sizes.indices.sorted { sizes[$0] > sizes[$1] }.map { (index, $0) }
        }
        struct Progress: Sendable {
            var batches: [[[ColumnData]]]
            var chunks: [[EncodedChunk?]]
            var left: [Int]
            var failures: [(any Error)?]
            var results: [Result<SpooledDataFile, any Error>?]
        }
        let progress = Mutex(Progress(
            batches: batches, chunks: groups.map { Array(repeating: nil, count: $0.columnCount) }, left: groups.map(\.columnCount),
            failures: Array(repeating: nil, count: groups.count), results: Array(repeating: nil, count: groups.count)))
        batches = []
        /// Writes file `index` once its columns are encoded and hands it on.
        @Sendable func complete(_ index: Int, chunks: [EncodedChunk], failure: (any Error)?) {
            let (partition, file) = closing[index]
            let result: Result<SpooledDataFile, any Error> =
                if let failure { .failure(failure) } else {
                    Result { try Self.finishClose(file, partition: partition, last: groups[index], chunks: chunks) }
                }
            progress.withLock { $0.results[index] = result }
            if case .success(let spooled) = result { onClosed(first + index, spooled) }
        }
        // A file without columns has nothing to encode.
        for index in groups.indices where groups[index].columnCount == 0 { complete(index, chunks: [], failure: nil) }
        let next = Atomic<Int>(0)
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, tasks.count))
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while true {
                let task = next.add(1, ordering: .relaxed).oldValue
                guard task < tasks.count else { return }
                let (index, column) = tasks[task]
                let own = progress.withLock { state in
                    defer { state.batches[index][column] = [] }
                    return state.batches[index][column]
                }
                let encoded = Result { try groups[index].encode(column: column, batches: own) }
                // The file's chunks once this was its last column, and the first failure among them.
                let fileEncoded: (chunks: [EncodedChunk], failure: (any Error)?)? = progress.withLock { state in
                    switch encoded {
                    case .success(let chunk): state.chunks[index][column] = chunk
                    case .failure(let error): state.failures[index] = state.failures[index] ?? error
                    }
                    state.left[index] -= 1
                    guard state.left[index] == 0 else { return nil }
                    defer { state.chunks[index] = [] }
                    return (state.chunks[index].compactMap { $0 }, state.failures[index])
                }
                if let fileEncoded { complete(index, chunks: fileEncoded.chunks, failure: fileEncoded.failure) }
            }
        }
        var failure: (any Error)?
        for (index, result) in progress.withLock({ $0.results }).enumerated() {
            switch result {
            case .success(let spooled)?: done.append(spooled)
            case .failure(let error)?:
                failure = failure ?? error
                try? FileManager.default.removeItem(atPath: closing[index].file.path)
            case nil: break
            }
        }
        if let failure { throw failure }
        return takeCompleted()
    }

    /// Bytes in open files (written and buffered).
    package var openBytes: Int { open.values.reduce(0) { $0 + $1.writer.estimatedFileSize } }

    /// Deletes the spooled files of open and untaken completed files (after a failure).
    package func discard() {
        for file in open.values { try? FileManager.default.removeItem(atPath: file.path) }
        for file in done { try? FileManager.default.removeItem(atPath: file.localPath) }
        open = [:]
        done = []
    }

    private func openFile(for partition: [Literal?]) throws -> OpenFile {
        if let file = open[partition] { return file }
        fileCounter += 1
        let path = "\(spoolDirectory)/\(fileCounter)-\(UUID().uuidString.lowercased()).parquet"
        var parquet = options.parquet
        parquet.rowGroupSizeBytes = min(parquet.rowGroupSizeBytes, options.targetFileSizeBytes)
        let output = try FileParquetOutput(path: path)
        let file = OpenFile(writer: ParquetFileWriter(schema: layout.parquetSchema, options: parquet, output: output), path: path)
        open[partition] = file
        return file
    }

    private func close(_ partition: [Literal?]) throws {
        guard let file = open.removeValue(forKey: partition) else { return }
        done.append(try Self.close(file, partition: partition))
    }

    /// Writes a file's last row group and footer (touches nothing but the file: safe on any thread).
    private static func close(_ file: OpenFile, partition: [Literal?]) throws -> SpooledDataFile {
        try FailPoint.fault("close-data-file")
        let metrics = try file.writer.close()  // a column at a time, each let go once written
        try file.writer.output.close()
        return SpooledDataFile(localPath: file.path, partition: partition, metrics: metrics, sources: file.sources.sorted())
    }

    /// Writes a file's last row group, encoded, and its footer (touches nothing but the file: safe on any thread).
    private static func finishClose(_ file: OpenFile, partition: [Literal?], last: PendingRowGroup, chunks: [EncodedChunk]) throws -> SpooledDataFile {
        try FailPoint.fault("close-data-file")
        let metrics = try file.writer.finishClose(last, chunks: chunks)
        try file.writer.output.close()
        return SpooledDataFile(localPath: file.path, partition: partition, metrics: metrics, sources: file.sources.sorted())
    }
}
