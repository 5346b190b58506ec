import Foundation
import FuzzTargets
import IcebergCore
import Testing
import TestSupport

/// The fuzz corpus as regression fixtures: every input in `Fixtures/fuzz/<target>/` (seeds, and every input
/// a fuzzer run found a fault with, kept once the fault was fixed) runs through its target, which must accept
/// it or reject it with the parser's own error. Seeds named `valid-*` must be accepted, so the corpus keeps
/// reaching past the first check. Then each seed is mutated a few hundred times with a fixed seed, so the suite
/// explores the same neighbourhood on every machine (the fuzzer, `scripts/fuzz.sh`, explores further).
@Suite struct FuzzCorpusTests {
    static func corpus(_ target: FuzzTarget) throws -> [URL] {
        let folder = TestEnvironment.fixtures.appendingPathComponent("fuzz/\(target.rawValue)")
        return try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { !$0.lastPathComponent.hasPrefix(".") }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    @Test(arguments: FuzzTarget.allCases) func corpusReplays(_ target: FuzzTarget) throws {
        let files = try Self.corpus(target)
        #expect(files.contains { $0.lastPathComponent.hasPrefix("valid-") }, "Fixtures/fuzz/\(target.rawValue) has no valid seed")
        for file in files {
            let outcome = try target.run([UInt8](try Data(contentsOf: file)))
            if file.lastPathComponent.hasPrefix("valid-") {
                #expect(outcome.isClean, "\(file.lastPathComponent): \(outcome)")
            }
        }
    }

    @Test(arguments: FuzzTarget.allCases) func mutatedSeedsAreAcceptedOrRejected(_ target: FuzzTarget) throws {
        var random = SplitMix64(seed: 0x1ce_b3_9)
        var rejected = 0
        var runs = 0
        for file in try Self.corpus(target) where file.lastPathComponent.hasPrefix("valid-") {
            let original = [UInt8](try Data(contentsOf: file))
            for _ in 0..<300 {
                var bytes = original
                for _ in 0..<Int.random(in: 1...4, using: &random) {
                    let at = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &random)
                    switch Int.random(in: 0..<5, using: &random) {
                    case 0 where !bytes.isEmpty: bytes[at] ^= UInt8.random(in: 1...255, using: &random)
                    case 1 where !bytes.isEmpty: bytes[at] = [0x00, 0xff, 0x7f, 0x80, 0x22, 0x0a][Int.random(in: 0..<6, using: &random)]
                    case 2: bytes.insert(UInt8.random(in: 0...255, using: &random), at: at)
                    case 3 where !bytes.isEmpty: bytes.removeSubrange(at..<min(bytes.count, at + Int.random(in: 1...16, using: &random)))
                    default: bytes = Array(bytes.prefix(at))
                    }
                }
                if try !target.run(bytes).isClean { rejected += 1 }
                runs += 1
            }
        }
        #expect(runs >= 300)
        // Truncation alone makes most inputs invalid: a target that finds fault with none is not checking.
        #expect(rejected > 0, "\(target.rawValue): none of \(runs) mutated inputs was rejected or had a bad record")
    }
}
