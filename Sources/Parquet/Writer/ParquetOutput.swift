import Foundation

/// Where a Parquet file's bytes go, in order.
package protocol ParquetOutput {
    mutating func write(_ bytes: [UInt8]) throws
}

/// Collects the file in memory.
package struct MemoryParquetOutput: ParquetOutput {
    package var bytes: [UInt8] = []
    package init() {}
    package mutating func write(_ bytes: [UInt8]) { self.bytes += bytes }
}

/// Writes the file to a local path as it goes (memory stays bounded by a row group).
package final class FileParquetOutput: ParquetOutput {
    private let handle: FileHandle
    package let path: String

    package init(path: String) throws {
        self.path = path
        // 0600: a spooled data file holds source data; nobody else on the machine reads it.
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw ParquetError(.io, "\(path): cannot create file")
        }
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    }

    package func write(_ bytes: [UInt8]) throws {
        do { try handle.write(contentsOf: bytes) } catch { throw ParquetError(.io, "\(path): write failed: \(error)") }
    }

    package func close() throws {
        do { try handle.close() } catch { throw ParquetError(.io, "\(path): close failed: \(error)") }
    }
}
