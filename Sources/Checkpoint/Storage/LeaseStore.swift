import Foundation
import IcebergCore

/// Who holds (or last held) the right to run one source shard into one table.
public struct LeaseRecord: Codable, Sendable, Equatable {
    /// A fresh id per runner (a UUID).
    public var owner: String
    public var host: String
    public var pid: Int32
    /// The holder process's start time in clock ticks since boot (Linux `/proc/<pid>/stat`), so that a
    /// reused pid on the same host is not mistaken for the holder.
    public var processStart: UInt64?
    /// The PID namespace the pid belongs to (`pid:[4026531836]`); a pid is only checked in the same one.
    public var pidNamespace: String?
    public var startedMillis: Int64
    public var expiresMillis: Int64
    /// Set when the holder let go at its end (or on SIGTERM): the next runner takes over at once.
    public var released: Bool

    public init(
        owner: String, host: String, pid: Int32, processStart: UInt64?, pidNamespace: String?, startedMillis: Int64, expiresMillis: Int64,
        released: Bool = false
    ) {
        self.owner = owner
        self.host = host
        self.pid = pid
        self.processStart = processStart
        self.pidNamespace = pidNamespace
        self.startedMillis = startedMillis
        self.expiresMillis = expiresMillis
        self.released = released
    }

    /// `host pid 1234 (owner 5f0c…, since 2026-11-29T10:00:00Z, expires in 42 s)`
    public func describe(nowMillis: Int64) -> String {
        let since = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(startedMillis) / 1000))
        let left = Double(expiresMillis - nowMillis) / 1000
        return "\(host) pid \(pid) (owner \(owner.prefix(8)), since \(since), "
            + (left > 0 ? String(format: "expires in %.0f s)", left) : String(format: "expired %.0f s ago)", -left))
    }
}

/// A lease this process holds: the sequence number of its newest record, and that record.
public struct HeldLease: Sendable, Equatable {
    public var sequence: Int64
    public var record: LeaseRecord
    /// The holder whose expired (or dead) lease this one took over; nil when the lease was free or released.
    /// Only then can there be a crashed run's checkpoint versions to discard.
    public var takenOverFrom: LeaseRecord?
}

/// One active runner per (table, source, shard): a lease kept beside the checkpoint, made of numbered
/// records written with the same atomic create the catalogs use (`If-None-Match: *` on S3, `O_EXCL`
/// locally), so it works on every warehouse and with every catalog.
///
/// The newest record (highest number) says who holds the lease and until when. A runner acquires it by
/// creating the next number, which exactly one of racing runners can do, and only when the newest record is
/// released, expired, or (same host) names a process that no longer runs. The holder renews by creating the
/// next number before expiry; it lets go by writing a released record. A holder paused past its expiry finds
/// a number it did not write when it renews or checks, and must stop without committing.
///
/// Files: `<checkpoint directory>/lease/<20-digit number>.json`; old records are trimmed as new ones come.
///
/// ```swift
/// let leases = LeaseStore(io: table.io, directory: store.directory + "lease/", ttlMillis: 60_000)
/// var held = try await leases.acquire()          // throws CheckpointError(.leaseHeld) naming the holder
/// held = try await leases.renew(held)            // every ttl/3 while working
/// try await leases.release(held)
/// ```
public struct LeaseStore: Sendable {
    public let io: any FileIO
    public let directory: String
    /// How long a record holds without renewal.
    public let ttlMillis: Int64
    public let clock: @Sendable () -> Int64
    /// This process, as records name it.
    public let identity: LeaseRecord

    public init(
        io: any FileIO, directory: String, ttlMillis: Int64, clock: @escaping @Sendable () -> Int64 = WallClock.nowMillis,
        owner: String = UUID().uuidString.lowercased()
    ) {
        self.io = io
        self.directory = directory.hasSuffix("/") ? directory : directory + "/"
        self.ttlMillis = ttlMillis
        self.clock = clock
        let pid = ProcessInfo.processInfo.processIdentifier
        identity = LeaseRecord(
            owner: owner, host: ProcessInfo.processInfo.hostName, pid: pid, processStart: Self.processStart(pid),
            pidNamespace: Self.pidNamespace(), startedMillis: 0, expiresMillis: 0)
    }

    func location(_ sequence: Int64) -> String {
        let digits = String(sequence)
        return directory + String(repeating: "0", count: max(0, 20 - digits.count)) + digits + ".json"
    }

    /// The newest record, if any.
    public func current() async throws -> (sequence: Int64, record: LeaseRecord)? {
        try await newest().map { ($0.sequence, $0.record) }
    }

    /// The newest record, and every record number its listing showed (what a trim after it deletes from,
    /// without listing again).
    private func newest() async throws -> (sequence: Int64, record: LeaseRecord, listed: [Int64])? {
        while true {
            let numbers = try await listed()
            guard let newest = numbers.max() else { return nil }
            do {
                return (newest, try await record(newest), numbers)
            } catch let error as IcebergError where error.code == .notFound {
                continue  // trimmed between the listing and the read: a newer one exists; look again
            }
        }
    }

    /// The record numbers in the directory.
    private func listed() async throws -> [Int64] {
        try await io.list(prefix: directory).compactMap { file -> Int64? in
            guard file.location.hasSuffix(".json") else { return nil }
            return Int64(file.location.dropFirst(directory.count).dropLast(5))
        }
    }

    /// Record number `sequence`, read.
    private func record(_ sequence: Int64) async throws -> LeaseRecord {
        do {
            return try JSONDecoder().decode(LeaseRecord.self, from: Data(try await io.read(location(sequence))))
        } catch let error as DecodingError {
            throw CheckpointError(.corrupt, "lease record \(location(sequence)) does not decode: \(error)")
        }
    }

    /// Whether `record` stops another runner from taking the lease now.
    public func isLive(_ record: LeaseRecord) -> Bool {
        if record.released || record.expiresMillis <= clock() { return false }
        // The same host and PID namespace: a holder process that has gone (killed, crashed) holds nothing.
        if record.host == identity.host, let namespace = record.pidNamespace, namespace == identity.pidNamespace,
            !Self.isRunning(pid: record.pid, start: record.processStart)
        {
            return false
        }
        return true
    }

    /// Takes the lease, or throws ``CheckpointError/Code/leaseHeld`` naming the live holder.
    public func acquire() async throws -> HeldLease {
        while true {
            let found = try await newest()
            if let newest = found, newest.record.owner != identity.owner, isLive(newest.record) {
                throw CheckpointError(
                    .leaseHeld,
                    "another runner holds this shard: \(newest.record.describe(nowMillis: clock())); lease \(location(newest.sequence))")
            }
            let sequence = (found?.sequence ?? 0) + 1
            let now = clock()
            var record = identity
            record.startedMillis = now
            record.expiresMillis = now + ttlMillis
            do {
                try await write(record, sequence: sequence)
            } catch let error as IcebergError where error.code == .alreadyExists {
                continue  // another runner wrote that number first: look again
            }
            let previous = found.map(\.record)
            let takenOver = previous.flatMap { $0.released ? nil : $0 }
            await trim(found?.listed ?? [], below: sequence)
            return HeldLease(sequence: sequence, record: record, takenOverFrom: takenOver)
        }
    }

    /// Extends the lease; throws ``CheckpointError/Code/leaseLost`` when another runner took it over.
    public func renew(_ held: HeldLease) async throws -> HeldLease {
        var record = held.record
        record.expiresMillis = clock() + ttlMillis
        let next = held.sequence + 1
        func lost() async -> CheckpointError {
            let holder = (try? await current())?.record.describe(nowMillis: clock()) ?? "another runner"
            return CheckpointError(.leaseLost, "the lease of this shard was taken over by \(holder) (was this process paused past its expiry?)")
        }
        do {
            try await write(record, sequence: next)
        } catch let error as IcebergError where error.code == .alreadyExists {
            throw await lost()
        }
        // The number may have been free only because a runner that took over has trimmed it since: the
        // renewal holds only if nothing newer exists.
        guard let found = try await newest(), found.sequence == next, found.record.owner == record.owner else {
            try? await io.delete(location(next))
            throw await lost()
        }
        await trim(found.listed, below: next)
        return HeldLease(sequence: next, record: record, takenOverFrom: held.takenOverFrom)
    }

    /// Throws ``CheckpointError/Code/leaseLost`` unless the newest record is still `held`'s owner's and
    /// `held` has at least `marginMillis` left: what a holder checks before it commits.
    public func verify(_ held: HeldLease, marginMillis: Int64) async throws {
        let now = clock()
        guard held.record.expiresMillis - marginMillis > now else {
            throw CheckpointError(.leaseLost, "the lease of this shard expires in \(held.record.expiresMillis - now) ms: too close to commit safely")
        }
        // One listing: when the newest number is the one this holder wrote, nobody took over (a runner takes
        // over by writing a higher number, and a trim never deletes the newest two). Otherwise the newest record
        // is read: a renewal of ours may have landed there since.
        if try await listed().max() == held.sequence { return }
        let newest = try await current()
        guard let newest, newest.record.owner == held.record.owner, !newest.record.released else {
            let holder = newest?.record.describe(nowMillis: now) ?? "nobody"
            throw CheckpointError(.leaseLost, "the lease of this shard is no longer ours: held by \(holder)")
        }
    }

    /// Lets go: the next runner takes over at once. Does nothing when the newest record is another owner's.
    public func release(_ held: HeldLease) async throws {
        var record = held.record
        record.released = true
        record.expiresMillis = clock()
        var sequence = held.sequence + 1
        while true {
            do {
                // No trim here: the next runner's acquire trims, from the listing it makes anyway.
                try await write(record, sequence: sequence)
                return
            } catch let error as IcebergError where error.code == .alreadyExists {
                // A renewal of ours landed there first; anyone else's record means the lease is no longer ours.
                guard let newest = try await current(), newest.record.owner == held.record.owner else { return }
                sequence = newest.sequence + 1
            }
        }
    }

    private func write(_ record: LeaseRecord, sequence: Int64) async throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try await io.writeIfAbsent(location(sequence), bytes: Array(try encoder.encode(record)))
    }

    /// Deletes the `listed` records older than the one before `sequence` (the newest two stay, for
    /// inspection; a third, the released record, until the next runner acquires).
    private func trim(_ listed: [Int64], below sequence: Int64) async {
        for number in listed where number < sequence - 1 {
            try? await io.delete(location(number))
        }
    }

    /// The start time of process `pid` (clock ticks since boot), from `/proc/<pid>/stat`; nil where there is none.
    static func processStart(_ pid: Int32) -> UInt64? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        // Fields after the command name (which may hold spaces): state is field 3, starttime field 22.
        let fields = text[text.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? UInt64(fields[19]) : nil
    }

    /// This process's PID namespace (`/proc/self/ns/pid`), where there is one.
    static func pidNamespace() -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/pid")
    }

    /// Whether process `pid` runs and is the one that started at `start` (when known).
    package static func isRunning(pid: Int32, start: UInt64?) -> Bool {
        if kill(pid, 0) != 0 && errno == ESRCH { return false }
        if let start, let now = processStart(pid), now != start { return false }
        return true
    }
}
