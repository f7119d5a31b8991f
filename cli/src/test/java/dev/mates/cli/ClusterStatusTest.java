package dev.mates.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mates.cli.cluster.LocalCluster;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mates cluster status} from a cluster state file, without a cluster: alive, dead and silent processes. */
class ClusterStatusTest {
    @Test
    void listsEveryProcessWithItsPidAndWhetherItAnswers(@TempDir Path dir) throws Exception {
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        try (ServerSocket listening = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
             ServerSocket silent = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            long me = ProcessHandle.current().pid();
            ObjectNode st = new ObjectMapper().createObjectNode().put("pid", me).put("trainer", "127.0.0.1:9000").put("tls", false);
            // A service whose management port accepts but never answers HTTP: "no answer" within the bound.
            st.putArray("processes")
                    .add(new ObjectMapper().createObjectNode().put("name", "trainer").put("pid", me).put("port", 9000)
                            .put("management_port", silent.getLocalPort()))
                    .add(new ObjectMapper().createObjectNode().put("name", "scorer-0").put("pid", gone.pid()).put("port", 9006)
                            .put("management_port", 9036))
                    .add(new ObjectMapper().createObjectNode().put("name", "redis").put("pid", me).put("port", listening.getLocalPort()));
            Files.writeString(dir.resolve(LocalCluster.STATE_FILE), st.toPrettyString());

            Captured c = Captured.run("cluster", "status", "--dir", dir.toString());
            assertEquals(1, c.code(), c.toString());
            String[] lines = c.out().split("\n");
            assertTrue(lines[0].contains("supervisor pid " + me + " (alive)") && lines[0].contains("trainer 127.0.0.1:9000"), c.out());
            assertTrue(lines[1].matches("name\\s+pid\\s+port\\s+mgmt\\s+alive\\s+health"), lines[1]);
            assertTrue(lines[2].matches("trainer\\s+" + me + "\\s+9000\\s+" + silent.getLocalPort() + "\\s+yes\\s+no answer"), lines[2]);
            assertTrue(lines[3].matches("scorer-0\\s+" + gone.pid() + "\\s+9006\\s+9036\\s+no\\s+-"), lines[3]);
            assertTrue(lines[4].matches("redis\\s+" + me + "\\s+" + listening.getLocalPort() + "\\s+-\\s+yes\\s+listening"), lines[4]);

            c = Captured.run("cluster", "status", "--dir", dir.toString(), "--json");
            assertEquals(1, c.code(), c.toString());
            JsonNode j = new ObjectMapper().readTree(c.out());
            assertTrue(j.path("supervisor_alive").asBoolean());
            assertEquals(false, j.at("/processes/1/alive").asBoolean(true));
            assertEquals("listening", j.at("/processes/2/health").asText());
        }
        assertEquals(3, Captured.run("cluster", "status", "--dir", dir.resolve("none").toString()).code());
    }
}
