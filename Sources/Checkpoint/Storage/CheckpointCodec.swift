import Codecs
import Foundation

/// The checkpoint file format, version 1:
///
/// ```
/// "IICK" | u16 format version (1) | u32 header length | header (JSON: source, shard, window, version,
///   watermark, folded-through hour, start hour, unarchived-through hour, pending data files, object count)
///   | 8 column sections
/// section: u64 raw length | u64 compressed length | zstd frame with content checksum
///   columns: key bytes, key ends (i64), etag bytes, etag ends (i64), sizes (i64), last-modified (i64),
///            snapshot ids (i64), hours (i32)
/// ```
/// All integers little-endian. Each column is compressed on its own and decompressed straight into its array,
/// so loading needs no second copy of the data; zstd's checksums catch corruption.
package enum CheckpointCodec {
    static let magic: [UInt8] = Array("IICK".utf8)
    static let formatVersion: UInt16 = 1
    /// zstd level 1: checkpoints are written every commit, so speed matters more than the last few percent.
    static let compressionLevel: Int32 = 1

    struct Header: Codable {
        var source: String
        var shardIndex: Int
        var shardCount: Int
        /// The shard layout's epoch; absent in files written before rescaling existed (epoch 0).
        var shardEpoch: Int?
        var lateArrivalHours: Int32
        var version: Int64
        var watermarkHour: Int32?
        /// The highest hour folded so far. Absent in files written before it was recorded: then the
        /// watermark minus the window the file was saved with.
        var foldedThroughHour: Int32?
        /// The hour a `start_at` started the source at (absent: the beginning).
        var startHour: Int32?
        /// Closed hours up to this one have no archive (folded by a release that kept none). Absent when
        /// every folded hour is archived, and in files of that release: those have no `foldedThroughHour`
        /// either, and everything they folded is unarchived.
        var unarchivedThroughHour: Int32?
        var pendingDataFiles: [String]
        /// Absent in files written before it was recorded.
        var pendingSnapshotID: Int64?
        var objectCount: Int
    }

    package static func encode(_ checkpoint: SourceCheckpoint) throws -> [UInt8] {
        let index = checkpoint.objects
        let header = Header(
            source: checkpoint.source, shardIndex: checkpoint.shard.index, shardCount: checkpoint.shard.count,
            shardEpoch: checkpoint.shard.epoch == 0 ? nil : checkpoint.shard.epoch, lateArrivalHours: checkpoint.lateArrivalHours, version: checkpoint.version,
            watermarkHour: checkpoint.watermarkHour, foldedThroughHour: checkpoint.foldedThroughHour, startHour: checkpoint.startHour,
            unarchivedThroughHour: checkpoint.unarchivedThroughHour, pendingDataFiles: checkpoint.pendingDataFiles, pendingSnapshotID: checkpoint.pendingSnapshotID,
            objectCount: index.count)
        let headerBytes = try [UInt8](JSONEncoder().encode(header))
        var out = magic
        append(formatVersion, to: &out)
        append(UInt32(headerBytes.count), to: &out)
        out += headerBytes
        let context: Zstd.Compressor
        do { context = try Zstd.Compressor(level: compressionLevel, checksum: true) } catch { throw CheckpointError(.io, error.message) }
        try index.keyBytes.withUnsafeBytes { try appendSection($0, context: context, to: &out) }
        try index.keyEnds.map(Int64.init).withUnsafeBytes { try appendSection($0, context: context, to: &out) }
        try index.etagBytes.withUnsafeBytes { try appendSection($0, context: context, to: &out) }
        try index.etagEnds.map(Int64.init).withUnsafeBytes { try appendSection($0, context: context, to: &out) }
        try index.sizes.withUnsafeBytes { try appendSection($0, context: context, to: &out) }
        try index.lastModified.withUnsafeBytes { try appendSection($0, context: context, to: &out) }
        try index.snapshotIDs.withUnsafeBytes { try appendSection($0, context: context, to: &out) }
        try index.hours.withUnsafeBytes { try appendSection($0, context: context, to: &out) }
        return out
    }

    package static func decode(_ bytes: [UInt8], location: String) throws -> SourceCheckpoint {
        func corrupt(_ why: String) -> CheckpointError { CheckpointError(.corrupt, "checkpoint \(location): \(why)") }
        var cursor = 0
        func take(_ n: Int) throws -> ArraySlice<UInt8> {
            guard n >= 0, bytes.count - cursor >= n else { throw corrupt("truncated at byte \(cursor)") }
            defer { cursor += n }
            return bytes[cursor..<cursor + n]
        }
        func integer<T: FixedWidthInteger>(_: T.Type) throws -> T {
            try take(MemoryLayout<T>.size).reversed().reduce(T(0)) { ($0 << 8) | T($1) }
        }
        guard try take(4).elementsEqual(magic) else { throw corrupt("not a checkpoint file (bad magic)") }
        let version = try integer(UInt16.self)
        guard version == formatVersion else { throw corrupt("format version \(version) is not supported (expected 1)") }
        let headerLength = Int(try integer(UInt32.self))
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: Data(try take(headerLength)))
        } catch let error as CheckpointError {
            throw error
        } catch {
            throw corrupt("header does not decode: \(error)")
        }
        guard header.shardCount >= 1, (0..<header.shardCount).contains(header.shardIndex), (header.shardEpoch ?? 0) >= 0, header.objectCount >= 0 else {
            throw corrupt("header has an impossible shard or object count")
        }
        func section<T: FixedWidthInteger>(_: T.Type, _ name: String) throws -> [T] {
            let rawLength = try integer(UInt64.self), compressedLength = try integer(UInt64.self)
            guard compressedLength <= UInt64(bytes.count - cursor) else { throw corrupt("section \(name) is truncated") }
            guard rawLength % UInt64(MemoryLayout<T>.size) == 0, rawLength <= UInt64(Int32.max) * 8 else {
                throw corrupt("section \(name) has an impossible length \(rawLength)")
            }
            let frame = try take(Int(compressedLength))
            let count = Int(rawLength) / MemoryLayout<T>.size
            let frameSize = frame.withUnsafeBytes { Zstd.frameContentSize($0) }
            guard frameSize == rawLength else { throw corrupt("section \(name) frame size disagrees with its header") }
            var values = [T](repeating: 0, count: count)
            var failure: CodecError?
            values.withUnsafeMutableBytes { out in
                frame.withUnsafeBytes { src in
                    do throws(CodecError) { try Zstd.decompress(src, into: out) } catch { failure = error }
                }
            }
            if let failure { throw corrupt("section \(name) does not decompress (checksum or data damaged): \(failure.message)") }
            return values
        }
        let keyBytes = try section(UInt8.self, "keys")
        let keyEnds = try section(Int64.self, "key ends").map(Int.init)
        let etagBytes = try section(UInt8.self, "etags")
        let etagEnds = try section(Int64.self, "etag ends").map(Int.init)
        let sizes = try section(Int64.self, "sizes")
        let lastModified = try section(Int64.self, "last-modified")
        let snapshotIDs = try section(Int64.self, "snapshot ids")
        let hours = try section(Int32.self, "hours")
        guard cursor == bytes.count else { throw corrupt("\(bytes.count - cursor) trailing bytes") }
        guard keyEnds.count == header.objectCount else { throw corrupt("header says \(header.objectCount) objects, columns hold \(keyEnds.count)") }
        let index: ObjectIndex
        do {
            index = try ObjectIndex(
                keyBytes: keyBytes, keyEnds: keyEnds, etagBytes: etagBytes, etagEnds: etagEnds, sizes: sizes,
                lastModified: lastModified, snapshotIDs: snapshotIDs, hours: hours)
        } catch {
            throw corrupt(error.message)
        }
        // A file without a folded hour was written before the archive existed: all it folded is unarchived.
        let folded = header.foldedThroughHour ?? header.watermarkHour.map { $0 - header.lateArrivalHours }
        return SourceCheckpoint(
            source: header.source, shard: ShardID(index: header.shardIndex, count: header.shardCount, epoch: header.shardEpoch ?? 0),
            lateArrivalHours: header.lateArrivalHours, version: header.version, watermarkHour: header.watermarkHour,
            foldedThroughHour: folded, startHour: header.startHour,
            unarchivedThroughHour: header.foldedThroughHour == nil ? folded : header.unarchivedThroughHour, pendingDataFiles: header.pendingDataFiles,
            pendingSnapshotID: header.pendingSnapshotID, objects: index)
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }

    private static func appendSection(_ raw: UnsafeRawBufferPointer, context: Zstd.Compressor, to out: inout [UInt8]) throws {
        let bound = Zstd.compressBound(raw.count)
        let start = out.count
        append(UInt64(raw.count), to: &out)
        append(UInt64(0), to: &out)  // compressed length, patched below
        out.append(contentsOf: repeatElement(0, count: bound))
        let result = out.withUnsafeMutableBytes { buffer in
            Result { () throws(CodecError) in
                try context.compress(raw, into: UnsafeMutableRawBufferPointer(rebasing: buffer[(start + 16)..<(start + 16 + bound)]))
            }
        }
        let written: Int
        do { written = try result.get() } catch { throw CheckpointError(.io, error.message) }
        out.removeSubrange((start + 16 + written)...)
        withUnsafeBytes(of: UInt64(written).littleEndian) { le in
            for i in 0..<8 { out[start + 8 + i] = le[i] }
        }
    }
}
