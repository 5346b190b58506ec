/* Present so that SwiftPM builds this shim as a C target. libsnappy is C++: link libstdc++ through it. */
