package dev.mates.engine.data;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Byte-level BPE: ids 0..255 are raw bytes, 256 is EOS, id 257+i is merge i. Because every byte is a token there is
 * no unknown token and any valid string round-trips (a lone surrogate, which has no UTF-8 form, becomes '?').
 *
 * <p>Text is first cut into chunks that partition it exactly (see {@link #chunks}); merges never cross a chunk, so
 * a chunk's ids are independent of its neighbours and can be cached.
 *
 * <p>Serialized form ({@link #toBytes()}): the ASCII magic {@code MBPE}, an int version (1), an int merge count m,
 * then m pairs of ints (left id, right id), all big-endian. Merge i creates id 257+i.
 */
public final class ByteBpeTokenizer implements Tokenizer {
    public static final int EOS = 256;
    public static final int DEFAULT_VOCAB = 2048;
    private static final int FIRST_MERGE = 257;
    private static final int MAX_VOCAB = 65536;
    private static final int VERSION = 1;
    /** Long runs (base64, minified code) are cut so encoding stays linear-ish and the cache stays useful. */
    static final int MAX_CHUNK_CHARS = 32;
    private static final int CACHE_LIMIT = 200_000;

    private final int[][] merges;
    /** (left << 32 | right) → merge rank. */
    private final Map<Long, Integer> rank;
    private final byte[][] tokenBytes;
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    private ByteBpeTokenizer(int[][] merges) {
        this.merges = merges;
        this.rank = new HashMap<>(merges.length * 2);
        this.tokenBytes = new byte[FIRST_MERGE + merges.length][];
        for (int b = 0; b < 256; b++) tokenBytes[b] = new byte[] {(byte) b};
        tokenBytes[EOS] = new byte[0];
        for (int i = 0; i < merges.length; i++) {
            int a = merges[i][0], b = merges[i][1];
            if (a < 0 || b < 0 || a >= FIRST_MERGE + i || b >= FIRST_MERGE + i || a == EOS || b == EOS) {
                throw new IllegalArgumentException("merge " + i + " refers to an invalid id: " + a + ", " + b);
            }
            rank.put(pairKey(a, b), i);
            byte[] l = tokenBytes[a], r = tokenBytes[b];
            byte[] t = Arrays.copyOf(l, l.length + r.length);
            System.arraycopy(r, 0, t, l.length, r.length);
            tokenBytes[FIRST_MERGE + i] = t;
        }
    }

    // ---- pre-tokenization -----------------------------------------------------------------------------------

    private static final int SPACE = 0, LETTER = 1, DIGIT = 2, OTHER = 3;

    private static int classOf(int cp) {
        if (Character.isWhitespace(cp) || Character.isSpaceChar(cp)) return SPACE;
        if (Character.isLetter(cp)) return LETTER;
        int type = Character.getType(cp);
        // combining accents belong to the word they decorate (decomposed "é" is e + U+0301)
        if (type == Character.NON_SPACING_MARK || type == Character.COMBINING_SPACING_MARK
                || type == Character.ENCLOSING_MARK) {
            return LETTER;
        }
        if (Character.isDigit(cp)) return DIGIT;
        return OTHER;
    }

    /**
     * Cuts text into chunks whose concatenation is the text: an optional single leading ' ' followed by a run of
     * letters, digits, or other symbols; or a run of whitespace (leaving its last ' ' to the word after it, so
     * " the" is the same chunk wherever it occurs). Runs longer than {@value #MAX_CHUNK_CHARS} chars are cut.
     */
    @Override
    public List<String> chunks(String text) {
        return chunksOf(text);
    }

    static List<String> chunksOf(String s) {
        List<String> out = new ArrayList<>();
        int n = s.length();
        int i = 0;
        while (i < n) {
            int start = i;
            int cp = s.codePointAt(i);
            int cls = classOf(cp);
            if (cp == ' ' && i + 1 < n && classOf(s.codePointAt(i + 1)) != SPACE) {
                i++;
                cp = s.codePointAt(i);
                cls = classOf(cp);
            }
            if (cls == SPACE) {
                i += Character.charCount(cp);
                while (i < n && i - start < MAX_CHUNK_CHARS) {
                    int c = s.codePointAt(i);
                    if (classOf(c) != SPACE) break;
                    if (c == ' ' && i + 1 < n && classOf(s.codePointAt(i + 1)) != SPACE) break;
                    i += Character.charCount(c);
                }
            } else {
                i += Character.charCount(cp);
                while (i < n && i - start < MAX_CHUNK_CHARS) {
                    int c = s.codePointAt(i);
                    if (classOf(c) != cls) break;
                    i += Character.charCount(c);
                }
            }
            out.add(s.substring(start, i));
        }
        return out;
    }

    // ---- training -------------------------------------------------------------------------------------------

    /**
     * Learns {@code vocabSize - 257} merges (fewer if the text runs out of pairs that occur at least twice).
     * Chunks are counted once, then each merge only revisits the chunks that contain the merged pair; the most
     * frequent pair wins and ties go to the smaller (left, right) ids, so training is deterministic.
     */
    public static ByteBpeTokenizer train(Iterable<String> texts, int vocabSize) {
        if (vocabSize < FIRST_MERGE || vocabSize > MAX_VOCAB) {
            throw new IllegalArgumentException("vocab size must be in [" + FIRST_MERGE + ", " + MAX_VOCAB + "], got " + vocabSize);
        }
        Map<String, long[]> chunkCounts = new HashMap<>();
        for (String t : texts) {
            for (String c : chunksOf(t)) chunkCounts.computeIfAbsent(c, k -> new long[1])[0]++;
        }
        int nWords = chunkCounts.size();
        int[][] words = new int[nWords][];
        int[] lens = new int[nWords];
        long[] freq = new long[nWords];
        int w = 0;
        for (Map.Entry<String, long[]> e : chunkCounts.entrySet()) {
            byte[] b = e.getKey().getBytes(StandardCharsets.UTF_8);
            int[] ids = new int[b.length];
            for (int j = 0; j < b.length; j++) ids[j] = b[j] & 0xff;
            words[w] = ids;
            lens[w] = ids.length;
            freq[w] = e.getValue()[0];
            w++;
        }
        chunkCounts = null;

        Map<Long, long[]> pairCount = new HashMap<>();
        Map<Long, IntList> where = new HashMap<>();
        for (w = 0; w < nWords; w++) {
            int[] ids = words[w];
            for (int j = 0; j + 1 < lens[w]; j++) {
                long p = pairKey(ids[j], ids[j + 1]);
                pairCount.computeIfAbsent(p, k -> new long[1])[0] += freq[w];
                where.computeIfAbsent(p, k -> new IntList()).add(w);
            }
        }
        // entries are {count, pair}; stale ones (count changed since pushed) are skipped when polled
        PriorityQueue<long[]> heap = new PriorityQueue<>((x, y) -> x[0] != y[0] ? Long.compare(y[0], x[0]) : Long.compare(x[1], y[1]));
        for (Map.Entry<Long, long[]> e : pairCount.entrySet()) heap.add(new long[] {e.getValue()[0], e.getKey()});

        int target = vocabSize - FIRST_MERGE;
        List<int[]> merges = new ArrayList<>(target);
        int[] visited = new int[nWords];
        Arrays.fill(visited, -1);
        // per merge, the net count change of each pair; most pairs of an affected chunk do not change at all
        Map<Long, long[]> delta = new HashMap<>();
        while (merges.size() < target && !heap.isEmpty()) {
            long[] top = heap.poll();
            long[] current = pairCount.get(top[1]);
            if (current == null || current[0] != top[0]) continue;
            if (top[0] < 2) break;
            long pair = top[1];
            int a = (int) (pair >>> 32), b = (int) pair;
            int newId = FIRST_MERGE + merges.size();
            merges.add(new int[] {a, b});
            IntList occurrences = where.remove(pair);
            delta.clear();
            for (int k = 0; k < occurrences.size; k++) {
                int wi = occurrences.data[k];
                if (visited[wi] == merges.size()) continue;
                visited[wi] = merges.size();
                int[] ids = words[wi];
                int len = lens[wi];
                if (!contains(ids, len, a, b)) continue;
                long f = freq[wi];
                for (int j = 0; j + 1 < len; j++) {
                    delta.computeIfAbsent(pairKey(ids[j], ids[j + 1]), q -> new long[1])[0] -= f;
                }
                int out = mergeInPlace(ids, len, a, b, newId);
                lens[wi] = out;
                for (int j = 0; j + 1 < out; j++) {
                    long p = pairKey(ids[j], ids[j + 1]);
                    delta.computeIfAbsent(p, q -> new long[1])[0] += f;
                    if (ids[j] == newId || ids[j + 1] == newId) where.computeIfAbsent(p, q -> new IntList()).add(wi);
                }
            }
            pairCount.remove(pair);
            for (Map.Entry<Long, long[]> e : delta.entrySet()) {
                long d = e.getValue()[0];
                long p = e.getKey();
                if (d == 0 || p == pair) continue;
                long[] c = pairCount.computeIfAbsent(p, q -> new long[1]);
                c[0] += d;
                if (c[0] <= 0) {
                    pairCount.remove(p);
                    where.remove(p);
                } else {
                    heap.add(new long[] {c[0], p});
                }
            }
        }
        return new ByteBpeTokenizer(merges.toArray(new int[0][]));
    }

    /** Replaces each (a, b), left to right, by newId; returns the new length. */
    private static int mergeInPlace(int[] ids, int len, int a, int b, int newId) {
        int out = 0;
        for (int j = 0; j < len; j++) {
            if (j + 1 < len && ids[j] == a && ids[j + 1] == b) {
                ids[out++] = newId;
                j++;
            } else {
                ids[out++] = ids[j];
            }
        }
        return out;
    }

    private static boolean contains(int[] ids, int len, int a, int b) {
        for (int j = 0; j + 1 < len; j++) if (ids[j] == a && ids[j + 1] == b) return true;
        return false;
    }

    private static long pairKey(int a, int b) {
        return ((long) a << 32) | (b & 0xffffffffL);
    }

    // ---- encoding -------------------------------------------------------------------------------------------

    @Override
    public int[] encode(String text) {
        IntList out = new IntList();
        for (String c : chunksOf(text)) {
            int[] ids = cache.get(c);
            if (ids == null) {
                ids = encodeChunk(c);
                // clearing is cheaper than LRU bookkeeping and the hot chunks come back within a few documents
                if (cache.size() >= CACHE_LIMIT) cache.clear();
                cache.put(c, ids);
            }
            out.addAll(ids);
        }
        return out.toArray();
    }

    private int[] encodeChunk(String chunk) {
        byte[] b = chunk.getBytes(StandardCharsets.UTF_8);
        int[] ids = new int[b.length];
        for (int j = 0; j < b.length; j++) ids[j] = b[j] & 0xff;
        int len = ids.length;
        while (len > 1) {
            int best = Integer.MAX_VALUE;
            for (int j = 0; j + 1 < len; j++) {
                Integer r = rank.get(pairKey(ids[j], ids[j + 1]));
                if (r != null && r < best) best = r;
            }
            if (best == Integer.MAX_VALUE) break;
            len = mergeInPlace(ids, len, merges[best][0], merges[best][1], FIRST_MERGE + best);
        }
        return Arrays.copyOf(ids, len);
    }

    @Override
    public String decode(int[] ids) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(ids.length * 4);
        for (int id : ids) {
            if (id < 0 || id >= tokenBytes.length) {
                throw new IllegalArgumentException("token id " + id + " outside the vocabulary [0, " + tokenBytes.length + ")");
            }
            out.writeBytes(tokenBytes[id]);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    @Override
    public int vocabSize() {
        return tokenBytes.length;
    }

    @Override
    public int eosId() {
        return EOS;
    }

    /** The bytes of one token, e.g. to show a vocabulary. */
    public byte[] tokenBytes(int id) {
        return tokenBytes[id].clone();
    }

    // ---- serialization --------------------------------------------------------------------------------------

    @Override
    public byte[] toBytes() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(12 + merges.length * 8);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeBytes("MBPE");
            out.writeInt(VERSION);
            out.writeInt(merges.length);
            for (int[] m : merges) {
                out.writeInt(m[0]);
                out.writeInt(m[1]);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    public static ByteBpeTokenizer fromBytes(byte[] data) {
        try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(data))) {
            byte[] magic = new byte[4];
            in.readFully(magic);
            if (!"MBPE".equals(new String(magic, StandardCharsets.US_ASCII))) {
                throw new IllegalArgumentException("not a byte-BPE tokenizer (bad magic)");
            }
            int version = in.readInt();
            if (version != VERSION) throw new IllegalArgumentException("unsupported byte-BPE version " + version);
            int m = in.readInt();
            if (m < 0 || m > MAX_VOCAB - FIRST_MERGE) throw new IllegalArgumentException("bad merge count " + m);
            int[][] merges = new int[m][];
            for (int i = 0; i < m; i++) merges[i] = new int[] {in.readInt(), in.readInt()};
            if (in.available() > 0) throw new IllegalArgumentException("trailing bytes after " + m + " merges");
            return new ByteBpeTokenizer(merges);
        } catch (IOException e) {
            throw new IllegalArgumentException("truncated byte-BPE tokenizer data", e);
        }
    }

    /** A growable int array: avoids boxing in the hot loops. */
    private static final class IntList {
        int[] data = new int[8];
        int size;

        void add(int v) {
            if (size == data.length) data = Arrays.copyOf(data, size * 2);
            data[size++] = v;
        }

        void addAll(int[] v) {
            if (size + v.length > data.length) data = Arrays.copyOf(data, Math.max(size + v.length, size * 2));
            System.arraycopy(v, 0, data, size, v.length);
            size += v.length;
        }

        int[] toArray() {
            return Arrays.copyOf(data, size);
        }
    }
}
