/* The inline function in include/ is all this target holds; SwiftPM needs one source file. */
