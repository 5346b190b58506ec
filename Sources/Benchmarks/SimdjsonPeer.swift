import ArgumentParser
import Foundation

/// The simdjson peer of `iceberg-bench json-parse`: a small C++ program, compiled at run time against Debian's
/// libsimdjson-dev (scripts/bootstrap.sh installs it), that parses the same JSON-lines file on one thread with
/// simdjson's On Demand API into column vectors (longs, doubles, booleans, strings as bytes and offsets,
/// ISO timestamps as microseconds, list offsets) and prints the CPU seconds of that parse and the rows.
///
/// Two ways to read a record (``Mode``): fields looked up by name, simdjson's fastest idiom, which never
/// sees a key the schema lacks or a repeated key; and every field in turn, as ours reads a record (it
/// counts unknown keys as drift and refuses repeated ones). simdjson picks its widest kernel at run time
/// (AVX-512 here), so the build needs no `-march`.
enum SimdjsonPeer {
    /// Compiles the peer into `directory`; the executable's path, or nil (said on stdout) where simdjson's
    /// header or a C++ compiler is missing: the other peers still run.
    static func build(in directory: String, compiler: String?) throws -> String? {
        guard FileManager.default.fileExists(atPath: "/usr/include/simdjson.h") else {
            print("json-parse: simdjson left out: /usr/include/simdjson.h is missing (Debian's libsimdjson-dev; scripts/bootstrap.sh installs it)")
            return nil
        }
        guard let cxx = compiler ?? ["c++", "clang++"].lazy.compactMap(Self.onPath).first else {
            print("json-parse: simdjson left out: no C++ compiler on PATH (c++ or clang++; or pass --cxx)")
            return nil
        }
        let source = directory + "/simdjson_peer.cpp", executable = directory + "/simdjson_peer"
        try Data(code.utf8).write(to: URL(fileURLWithPath: source))
        let (output, status) = try ChildProcess.run(cxx, ["-O3", "-std=c++17", "-o", executable, source, "-lsimdjson"])
        guard status == 0 else { throw ValidationError("json-parse: \(cxx) could not build the simdjson peer (exit \(status)): \(output)") }
        return executable
    }

    /// How the peer reads a record's fields.
    enum Mode: String, CaseIterable {
        /// Each schema field looked up by name (in the input's key order): simdjson's fastest idiom, which
        /// never sees a key the schema lacks or a repeated key.
        case lookup
        /// Every field in turn, its key matched against the schema's: what a parser that counts unknown keys
        /// (schema drift) and refuses repeated ones, as ours does, has to do.
        case fields
    }

    /// Runs the peer on `path` (`input` is flat or nested): CPU seconds of the parse, and rows.
    static func run(_ executable: String, path: String, input: String, mode: Mode) throws -> (seconds: Double, rows: Int) {
        let (output, status) = try ChildProcess.run(executable, [path, input, mode.rawValue])
        let fields = output.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        guard status == 0, fields.count == 2, let seconds = Double(fields[0]), let rows = Int(fields[1]) else {
            throw ValidationError("the simdjson peer exited with \(status) and printed: \(output)")
        }
        return (seconds, rows)
    }

    /// The first `name` in a folder of PATH.
    private static func onPath(_ name: String) -> String? {
        let folders = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return folders.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static let code = #"""
    // iceberg-bench json-parse's simdjson peer: JSON lines into column vectors on one thread (On Demand).
    #include <simdjson.h>
    #include <sys/resource.h>
    #include <cstdio>
    #include <cstring>
    #include <string_view>
    #include <vector>
    using namespace simdjson;

    static double cpu() {
      rusage r; getrusage(RUSAGE_SELF, &r);
      return r.ru_utime.tv_sec + r.ru_utime.tv_usec / 1e6 + r.ru_stime.tv_sec + r.ru_stime.tv_usec / 1e6;
    }
    struct Strings {
      std::vector<char> bytes; std::vector<int32_t> offsets{0};
      void add(std::string_view s) { bytes.insert(bytes.end(), s.begin(), s.end()); offsets.push_back((int32_t)bytes.size()); }
    };
    static int d2(const char* p) { return (p[0] - '0') * 10 + (p[1] - '0'); }
    // YYYY-MM-DDTHH:MM:SS[.fraction]Z as microseconds since the epoch; false for any other form.
    static bool iso(std::string_view s, int64_t& out) {
      if (s.size() < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':') return false;
      const char* p = s.data();
      for (int k : {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18}) if ((unsigned)(p[k] - '0') > 9) return false;
      int y = d2(p) * 100 + d2(p + 2), m = d2(p + 5), d = d2(p + 8);
      int64_t micros = 0; size_t i = 19;
      if (s[i] == '.') {
        int n = 0;
        for (i++; i < s.size() && (unsigned)(s[i] - '0') <= 9; i++) if (n < 6) { micros = micros * 10 + (s[i] - '0'); n++; }
        for (; n < 6; n++) micros *= 10;
      }
      if (i + 1 != s.size() || s[i] != 'Z') return false;
      y -= m <= 2;  // days from the civil date (Howard Hinnant's algorithm)
      int64_t era = (y >= 0 ? y : y - 399) / 400; unsigned yoe = (unsigned)(y - era * 400);
      unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1, doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
      int64_t days = era * 146097 + (int64_t)doe - 719468;
      out = (((days * 24 + d2(p + 11)) * 60 + d2(p + 14)) * 60 + d2(p + 17)) * 1000000 + micros;
      return true;
    }
    #define CHECK(x) do { auto e_ = (x); if (e_) { fprintf(stderr, "simdjson: %s at record %zu\n", error_message(e_), rows); return 1; } } while (0)

    // Every field of the record in turn, as a parser that must see each key does: a key the schema lacks is
    // counted, a repeated one is an error.
    struct Columns {
      std::vector<int64_t> longs, times; std::vector<double> doubles; std::vector<uint8_t> bools;
      Strings s1, s2, s3, tags; std::vector<int32_t> listOffsets{0};
      size_t unknown = 0;
    };

    int main(int argc, char** argv) {
      if (argc != 4) { fprintf(stderr, "usage: simdjson_peer file flat|nested lookup|fields\n"); return 2; }
      bool nested = std::strcmp(argv[2], "nested") == 0, fields = std::strcmp(argv[3], "fields") == 0;
      size_t rows = 0;
      padded_string json; CHECK(padded_string::load(argv[1]).get(json));
      ondemand::parser parser;
      Columns c;
      double t = cpu();
      ondemand::document_stream docs; CHECK(parser.iterate_many(json, 1 << 20).get(docs));
      for (auto doc : docs) {
        ondemand::object o; CHECK(doc.get_object().get(o));
        std::string_view x; int64_t n; double a; bool b;
        if (fields) {
          unsigned seen = 0;
          for (auto field : o) {
            ondemand::raw_json_string key; CHECK(field.key().get(key));
            ondemand::value v; CHECK(field.value().get(v));
            unsigned bit;
            if (!nested) {
              if (key == "id") { bit = 1; CHECK(v.get_int64().get(n)); c.longs.push_back(n); }
              else if (key == "event_time") { bit = 2; CHECK(v.get_string().get(x)); if (!iso(x, n)) return 3; c.times.push_back(n); }
              else if (key == "user_id") { bit = 4; CHECK(v.get_string().get(x)); c.s1.add(x); }
              else if (key == "country") { bit = 8; CHECK(v.get_string().get(x)); c.s2.add(x); }
              else if (key == "amount") { bit = 16; CHECK(v.get_double().get(a)); c.doubles.push_back(a); }
              else if (key == "ok") { bit = 32; CHECK(v.get_bool().get(b)); c.bools.push_back(b); }
              else { c.unknown++; continue; }
            } else {
              if (key == "event_id") { bit = 1; CHECK(v.get_string().get(x)); c.s1.add(x); }
              else if (key == "seq") { bit = 2; CHECK(v.get_int64().get(n)); c.longs.push_back(n); }
              else if (key == "amount") { bit = 4; CHECK(v.get_double().get(a)); c.doubles.push_back(a); }
              else if (key == "user") {
                bit = 8;
                ondemand::object user; CHECK(v.get_object().get(user));
                unsigned userSeen = 0;
                for (auto uf : user) {
                  ondemand::raw_json_string k; CHECK(uf.key().get(k));
                  unsigned ubit = k == "name" ? 1 : k == "country" ? 2 : 0;
                  if (!ubit) { c.unknown++; continue; }
                  if (userSeen & ubit) { fprintf(stderr, "repeated key in user at record %zu\n", rows); return 5; }
                  userSeen |= ubit;
                  CHECK(uf.value().get_string().get(x)); (ubit == 1 ? c.s2 : c.s3).add(x);
                }
              } else if (key == "tags") {
                bit = 16;
                ondemand::array list; CHECK(v.get_array().get(list));
                for (auto item : list) { CHECK(item.get_string().get(x)); c.tags.add(x); }
                c.listOffsets.push_back((int32_t)(c.tags.offsets.size() - 1));
              } else if (key == "event_time") { bit = 32; CHECK(v.get_string().get(x)); if (!iso(x, n)) return 3; c.times.push_back(n); }
              else { c.unknown++; continue; }
            }
            if (seen & bit) { fprintf(stderr, "repeated key at record %zu\n", rows); return 5; }
            seen |= bit;
          }
        } else if (!nested) {
          CHECK(o["id"].get_int64().get(n)); c.longs.push_back(n);
          CHECK(o["event_time"].get_string().get(x)); if (!iso(x, n)) return 3; c.times.push_back(n);
          CHECK(o["user_id"].get_string().get(x)); c.s1.add(x);
          CHECK(o["country"].get_string().get(x)); c.s2.add(x);
          CHECK(o["amount"].get_double().get(a)); c.doubles.push_back(a);
          CHECK(o["ok"].get_bool().get(b)); c.bools.push_back(b);
        } else {
          CHECK(o["event_id"].get_string().get(x)); c.s1.add(x);
          CHECK(o["seq"].get_int64().get(n)); c.longs.push_back(n);
          CHECK(o["amount"].get_double().get(a)); c.doubles.push_back(a);
          ondemand::object user; CHECK(o["user"].get_object().get(user));
          CHECK(user["name"].get_string().get(x)); c.s2.add(x);
          CHECK(user["country"].get_string().get(x)); c.s3.add(x);
          ondemand::array list; CHECK(o["tags"].get_array().get(list));
          for (auto item : list) { CHECK(item.get_string().get(x)); c.tags.add(x); }
          c.listOffsets.push_back((int32_t)(c.tags.offsets.size() - 1));
          CHECK(o["event_time"].get_string().get(x)); if (!iso(x, n)) return 3; c.times.push_back(n);
        }
        rows++;
      }
      t = cpu() - t;
      if (c.longs.size() != rows || c.times.size() != rows || c.doubles.size() != rows || c.unknown) {
        fprintf(stderr, "columns and rows differ, or %zu unknown keys\n", c.unknown); return 4;
      }
      printf("%.4f %zu\n", t, rows);
      return 0;
    }
    """#
}
