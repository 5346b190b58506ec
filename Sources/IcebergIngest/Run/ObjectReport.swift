import IcebergCore

/// What reading one input object found: rows, bad records, drift, and the time it took. Made once by the
/// ``ObjectParser`` and added into the ``RunSummary`` once the object's commit lands (so that an object
/// parsed again after a schema change is counted once).
struct ObjectReport {
    var counts = ParseCounts()
    /// Bad records kept for the dead-letter file (policy `dead-letter`).
    var deadLetters: [BadRecord] = []
    /// The first bad records, described.
    var badExamples: [String] = []
    /// New fields, type mismatches and missing required fields, with counts and where seen.
    var drift: [DriftFinding] = []
    /// Fields the schema lacked, with a sample value, and columns needing a wider type (for the lineage).
    var samples: [String: JSONValue] = [:]
    var widenings: [String: PrimitiveType] = [:]
    /// Keys the schema lacks, with counts.
    var unknownFields: [String: Int] = [:]
    /// The data file of a Parquet input registered as it is.
    var registered: DataFile?
    var bytesRead: Int64 = 0
    var bytesDecompressed: Int64 = 0
    /// Why the object was left out whole, damaged (``DamagedObject``); nil for an object that was read.
    var damage: String?
    /// Whether the text was parsed in parts (``SplitParse``).
    var parsedInParts = false
    var readSeconds = 0.0
    var parseSeconds = 0.0
}

extension RunSummary {
    /// Adds one ingested object's report.
    mutating func add(_ report: ObjectReport) {
        bytesRead += report.bytesRead
        if let damage = report.damage {
            damagedObjects += 1
            if damagedObjectExamples.count < 10 { damagedObjectExamples.append(damage) }
            return
        }
        objectsIngested += 1
        bytesDecompressed += report.bytesDecompressed
        if report.parsedInParts { objectsParsedInParts += 1 }
        readSeconds += report.readSeconds
        parseSeconds += report.parseSeconds
        lines += report.counts.lines
        headerLines += report.counts.headerLines
        rows += report.counts.rows
        badRecords += report.counts.badRecords
        deadLettered += report.deadLetters.count
        if report.registered != nil { dataFilesRegistered += 1 }
        for (k, v) in report.unknownFields { unknownFields[k, default: 0] += v }
        for example in report.badExamples where badRecordExamples.count < 20 { badRecordExamples.append(example) }
        for finding in report.drift {
            if let i = drift.firstIndex(where: { $0.kind == finding.kind && $0.field == finding.field }) {
                drift[i].count += finding.count
                drift[i].examples = Array((drift[i].examples + finding.examples).prefix(3))
            } else {
                drift.append(finding)
            }
        }
    }
}
