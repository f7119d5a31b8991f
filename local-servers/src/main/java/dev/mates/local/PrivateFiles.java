package dev.mates.local;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * Files that hold secrets on this machine (tokens, keys, the S3 secret): created readable by their owner only, before
 * anything is written to them, where the file system has POSIX permissions.
 */
public final class PrivateFiles {
    private PrivateFiles() {}

    /** Writes {@code content} to {@code file} (owner-only), replacing it atomically. */
    public static void write(Path file, String content) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        try {
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException e) {
            Files.createFile(tmp);
        }
        Files.writeString(tmp, content, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Creates {@code dir} readable by its owner only; an existing folder is left as it is. */
    public static void createDirectory(Path dir) throws IOException {
        if (Files.exists(dir)) return;
        Files.createDirectories(dir.toAbsolutePath().getParent());
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (UnsupportedOperationException e) {
            Files.createDirectory(dir);
        }
    }

    /** Writes a fresh random secret (32 bytes from {@link SecureRandom}, hex) to {@code file} unless it exists. */
    public static void randomSecretIfAbsent(Path file) throws IOException {
        if (Files.exists(file)) return;
        byte[] b = new byte[32];
        new SecureRandom().nextBytes(b);
        write(file, HexFormat.of().formatHex(b) + "\n");
    }
}
