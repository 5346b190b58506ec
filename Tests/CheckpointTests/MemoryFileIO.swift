import IcebergCore

/// A FileIO over a dictionary, for tests of code that only needs FileIO's contract.
actor MemoryFileIO: FileIO {
    private var files: [String: [UInt8]] = [:]

    func read(_ location: String) throws -> [UInt8] {
        guard let bytes = files[location] else { throw IcebergError(.notFound, "no file \(location)") }
        return bytes
    }
    func read(_ location: String, range: Range<Int64>) throws -> [UInt8] {
        let bytes = try read(location)
        return Array(bytes[Int(range.lowerBound)..<min(Int(range.upperBound), bytes.count)])
    }
    func size(_ location: String) throws -> Int64 { Int64(try read(location).count) }
    func write(_ location: String, bytes: [UInt8]) { files[location] = bytes }
    func writeIfAbsent(_ location: String, bytes: [UInt8]) throws {
        guard files[location] == nil else { throw IcebergError(.alreadyExists, "\(location) exists") }
        files[location] = bytes
    }
    func delete(_ location: String) { files[location] = nil }
    func exists(_ location: String) -> Bool { files[location] != nil }
    func list(prefix: String) -> [FileInfo] {
        files.filter { $0.key.hasPrefix(prefix) }.map { FileInfo(location: $0.key, size: Int64($0.value.count)) }
            .sorted { $0.location < $1.location }
    }
}
