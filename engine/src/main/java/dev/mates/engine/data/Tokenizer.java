package dev.mates.engine.data;

/** Text to token ids and back. Implementations have no unknown token: every string round-trips. */
public interface Tokenizer {
    int[] encode(String text);

    String decode(int[] ids);

    int vocabSize();

    /** Separates documents when they are packed into one sequence. */
    int eosId();

    /** Serialized form, so a remote role rebuilds the same tokenizer (see ByteBpeTokenizer.fromBytes). */
    byte[] toBytes();
}
