import Foundation

/// One line of JSON for a script to read (the executable's `--json` output): keys sorted, slashes as is.
/// Every `--json` output (plan, run, status, evolve and upkeep) names its keys the same way: lowerCamelCase,
/// the names of the Swift properties they encode (`objectsIngested`, `snapshotIDs`, `checkpointVersion`).
package enum JSONLine {
    package static func encode(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: encoder.encode(value), as: UTF8.self)) ?? "{}"
    }
}
