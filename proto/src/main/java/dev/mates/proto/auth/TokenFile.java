package dev.mates.proto.auth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A file of bearer tokens, one per line ({@code #} comments and blank lines ignored), re-read at most once a second
 * so a rotated file (a new Kubernetes Secret version, a rewritten file) takes effect without a restart. Servers
 * accept every token in the file, so a rotation can keep the old token beside the new one until every client has
 * moved; clients send the first. Tokens are compared by their SHA-256 digests in constant time; the file's content
 * is never put into a message or a log line.
 */
public final class TokenFile {
    /** Printable ASCII without spaces, at least 16 characters: what {@code openssl rand -hex 32} and our generator make. */
    private static final Pattern TOKEN = Pattern.compile("[\\x21-\\x7e]{16,4096}");
    private static final long RELOAD_NANOS = 1_000_000_000L;

    private final String setting;
    private final Path path;
    private volatile Snapshot snapshot;
    private volatile boolean warned;
    private static final System.Logger LOG = System.getLogger(TokenFile.class.getName());

    private record Snapshot(List<byte[]> digests, String first, long readAt) {}

    private TokenFile(String setting, Path path, Snapshot s) {
        this.setting = setting;
        this.path = path;
        this.snapshot = s;
    }

    /**
     * Reads {@code path}; {@code setting} names the configuration key or option it came from, for the messages.
     *
     * @throws IllegalArgumentException naming the setting and the file when it is missing, unreadable, holds no
     *                                  token or a malformed one (the line number, never the content)
     */
    public static TokenFile open(String setting, Path path) {
        return new TokenFile(setting, path, read(setting, path));
    }

    private static Snapshot read(String setting, Path path) {
        List<String> lines;
        try {
            lines = Files.readAllLines(path, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(setting + ": token file " + path + " does not exist");
        } catch (IOException e) {
            throw new IllegalArgumentException(setting + ": cannot read token file " + path + " (" + e.getClass().getSimpleName() + ")");
        }
        List<byte[]> digests = new ArrayList<>();
        String first = null;
        for (int i = 0; i < lines.size(); i++) {
            String t = lines.get(i).strip();
            if (t.isEmpty() || t.startsWith("#")) continue;
            if (!TOKEN.matcher(t).matches()) {
                throw new IllegalArgumentException(setting + ": " + path + " line " + (i + 1)
                        + ": a token is 16 to 4096 printable ASCII characters without spaces (e.g. `openssl rand -hex 32`)");
            }
            if (first == null) first = t;
            digests.add(digest(t));
        }
        if (first == null) throw new IllegalArgumentException(setting + ": token file " + path + " holds no token");
        return new Snapshot(List.copyOf(digests), first, System.nanoTime());
    }

    private Snapshot current() {
        Snapshot s = snapshot;
        if (System.nanoTime() - s.readAt < RELOAD_NANOS) return s;
        try {
            s = read(setting, path);
            warned = false;
        } catch (IllegalArgumentException e) {
            // Mid-rotation (the file briefly missing or half-written): keep the tokens we had, look again in a second.
            // Said once per failure streak (the message names the setting, the path and a line number, never a token),
            // so a broken rewrite that keeps a revoked token alive does not go unnoticed.
            if (!warned) {
                LOG.log(System.Logger.Level.WARNING, "keeping the previous tokens: " + e.getMessage());
                warned = true;
            }
            s = new Snapshot(s.digests, s.first, System.nanoTime());
        }
        snapshot = s;
        return s;
    }

    /** Whether {@code presented} is one of the file's tokens; every token is compared, in constant time each. */
    public boolean accepts(String presented) {
        byte[] d = digest(presented);
        boolean ok = false;
        for (byte[] t : current().digests) ok |= MessageDigest.isEqual(t, d);
        return ok;
    }

    /** The token a client sends: the file's first. */
    public String token() {
        return current().first;
    }

    public Path path() {
        return path;
    }

    public String setting() {
        return setting;
    }

    static byte[] digest(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public String toString() {
        return "TokenFile[" + setting + "=" + path + "]"; // never the tokens
    }
}
