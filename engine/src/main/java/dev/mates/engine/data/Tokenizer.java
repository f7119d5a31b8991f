package dev.mates.engine.data;

import java.util.List;

/** Text to token ids and back. Implementations have no unknown token: every string round-trips. */
public interface Tokenizer {
    int[] encode(String text);

    String decode(int[] ids);

    /**
     * The text cut into consecutive pieces that no token crosses (the pre-tokenization), so that encoding the
     * concatenation of consecutive pieces gives the concatenation of their encodings. A tokenizer without such a
     * partition returns the whole text as one piece.
     */
    default List<String> chunks(String text) {
        return List.of(text);
    }

    int vocabSize();

    /** Separates documents when they are packed into one sequence. */
    int eosId();

    /** Serialized form, so a remote role rebuilds the same tokenizer (see ByteBpeTokenizer.fromBytes). */
    byte[] toBytes();
}
