package dev.mates.loadtest;

import java.util.SplittableRandom;

/**
 * Deterministic English-like text of a given length, different for every key. Benchmarks need fresh text for every
 * document: encoder backbones cache embeddings by text, so scoring the same text twice would measure the cache.
 */
public final class SyntheticText {
    private static final String[] WORDS = ("the of and to in a is that for it as was with be by on not he this are or his "
            + "from at which but have an they you were her she there been one all we their has would when if so no will "
            + "more can who said out about up them some could what into only time new other year people two first after "
            + "most also made over any where many these years may such state during world government through between "
            + "data model training language corpus selection influence probe stage reference loss token document score")
            .split(" ");

    private SyntheticText() {}

    /** About {@code chars} characters (whole words, at least one) of text for {@code key} under {@code seed}. */
    public static String of(long seed, long key, int chars) {
        SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + key);
        StringBuilder sb = new StringBuilder(chars + 16);
        // a leading number makes every key's text distinct even when the words repeat
        sb.append(key).append(' ');
        while (sb.length() < chars) sb.append(WORDS[r.nextInt(WORDS.length)]).append(' ');
        return sb.toString().strip();
    }
}
