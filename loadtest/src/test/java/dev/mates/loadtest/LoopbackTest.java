package dev.mates.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LoopbackTest {
    @Test
    void loopbackTargetsPass() {
        assertEquals("127.0.0.1:9006", Loopback.check("--target", "127.0.0.1:9006").grpcTarget());
        assertEquals("127.5.6.7:80", Loopback.check("--target", " 127.5.6.7:80 ").grpcTarget());
        assertEquals("127.0.0.1:9006", Loopback.check("--target", "localhost:9006").grpcTarget());
        assertEquals("[0:0:0:0:0:0:0:1]:9006", Loopback.check("--target", "[::1]:9006").grpcTarget());
    }

    @Test
    void anythingElseIsRefusedWithTheReason() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Loopback.check("--target", "10.0.0.5:9006"));
        assertEquals("--target 10.0.0.5:9006: 10.0.0.5 not a loopback address; the load generator only sends "
                + "to this machine (localhost, 127.0.0.0/8, ::1)", e.getMessage());
        for (String t : new String[] {"0.0.0.0:9006", "8.8.8.8:53", "[2001:db8::1]:9006", "[::]:9006"}) {
            e = assertThrows(IllegalArgumentException.class, () -> Loopback.check("--target", t), t);
            assertTrue(e.getMessage().contains("not a loopback address"), e.getMessage());
        }
        for (String t : new String[] {"9006", "localhost", "localhost:", ":9006", "localhost:x", "localhost:70000",
            "dns:///localhost:9006", "::1:9006", "[::1]9006", ""}) {
            e = assertThrows(IllegalArgumentException.class, () -> Loopback.check("--target", t), t);
            assertTrue(e.getMessage().contains("expected HOST:PORT"), t + ": " + e.getMessage());
        }
    }
}
