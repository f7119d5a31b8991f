package dev.mates.engine.data;

import java.nio.charset.StandardCharsets;

/** Stable 64-bit hashes (FNV-1a over UTF-8 then a SplitMix64 finalizer): identical on every JVM and shard. */
public final class Hashing {
    private Hashing() {}

    public static long key64(String s) {
        long h = 0xcbf29ce484222325L;
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            h ^= (b & 0xff);
            h *= 0x100000001b3L;
        }
        return mix64(h);
    }

    /** SplitMix64 finalizer: a bijection on 64-bit values with good avalanche. */
    public static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
