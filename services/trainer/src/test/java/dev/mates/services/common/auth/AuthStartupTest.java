package dev.mates.services.common.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mates.services.common.auth.Auth.Kind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Start-up checks of {@link Auth}: no default token, a missing or malformed file stops the service, naming the setting. */
class AuthStartupTest {
    @TempDir
    Path dir;

    static Auth auth(Optional<Path> client, Optional<Path> internal, List<String> required) {
        Auth a = new Auth();
        a.clientFile = client;
        a.internalFile = internal;
        a.required = required;
        return a;
    }

    @Test
    void aRequiredTokenFileThatIsNotSetStopsTheServiceNamingTheSetting() throws IOException {
        Path internal = Files.writeString(dir.resolve("internal"), "internal-token-0123456789abcdef\n");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> auth(Optional.empty(), Optional.of(internal), List.of("client", "internal")).load());
        assertTrue(e.getMessage().startsWith("mates.auth.token-file is not set"), e.getMessage());
        assertTrue(e.getMessage().contains("MATES_AUTH_TOKEN_FILE"), e.getMessage());
        Auth ok = auth(Optional.empty(), Optional.of(internal), List.of("internal"));
        ok.load();
        assertEquals(Set.of(Kind.INTERNAL), ok.kindsOf("internal-token-0123456789abcdef"));
        assertEquals(Set.of(), ok.kindsOf("anything-else-0123456789abcdef"), "no client token is configured: none is accepted");
    }

    @Test
    void aMalformedOrEmptyTokenFileStopsTheServiceWithoutEchoingIt() throws IOException {
        Path shortToken = Files.writeString(dir.resolve("short"), "# comment\nsecret12\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> auth(Optional.of(shortToken), Optional.empty(), List.of("client")).load());
        assertTrue(e.getMessage().contains("line 2"), e.getMessage());
        assertFalse(e.getMessage().contains("secret12"), "the file's content is not in the message: " + e.getMessage());
        Path empty = Files.writeString(dir.resolve("empty"), "\n# only a comment\n");
        e = assertThrows(IllegalArgumentException.class, () -> auth(Optional.of(empty), Optional.empty(), List.of("client")).load());
        assertTrue(e.getMessage().contains("holds no token"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> auth(Optional.of(dir.resolve("missing")), Optional.empty(), List.of("client")).load());
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
    }

    @Test
    void bothKindsAreRecognisedAndEveryTokenOfAFileIsAccepted() throws IOException {
        Path client = Files.writeString(dir.resolve("client"), "new-client-token-0123456789abcdef\nold-client-token-0123456789abcdef\n");
        Path internal = Files.writeString(dir.resolve("internal"), "internal-token-0123456789abcdef\n");
        Auth a = auth(Optional.of(client), Optional.of(internal), List.of("client", "internal"));
        a.load();
        assertEquals(Set.of(Kind.CLIENT), a.kindsOf("old-client-token-0123456789abcdef"));
        assertEquals(Set.of(Kind.CLIENT), a.kindsOf("new-client-token-0123456789abcdef"));
        assertEquals(Set.of(Kind.INTERNAL), a.kindsOf("internal-token-0123456789abcdef"));
        assertEquals(Set.of(), a.kindsOf("new-client-token-0123456789abcde"), "a prefix is not the token");
        assertEquals("internal-token-0123456789abcdef", a.internalToken().token());
    }
}
