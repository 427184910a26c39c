// Package sessiondtest starts the real sessiond binary for tests: SESSIOND_BIN, or the debug
// build of this repository (.build/debug/sessiond). A missing binary fails the test; it never
// skips.
package sessiondtest

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Bin is the sessiond binary the tests run.
func Bin() string {
	if bin := os.Getenv("SESSIOND_BIN"); bin != "" {
		return bin
	}
	_, file, _, _ := runtime.Caller(0)
	// clients/go/internal/sessiondtest/sessiondtest.go -> the repository's root
	root := filepath.Join(filepath.Dir(file), "..", "..", "..", "..")
	return filepath.Join(root, ".build", "debug", "sessiond")
}

// Server is one sessiond process of a test's own on a free loopback port (memory store).
type Server struct {
	URL  string
	Port int
	cmd  *exec.Cmd
	out  *lockedBuffer
	mu   sync.Mutex
	done bool
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// FreePort is a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("no free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Start runs sessiond with args (after --host, --port, --store memory, --log-level warning),
// waits until /readyz answers 200, and stops it when the test ends.
func Start(t testing.TB, args ...string) *Server {
	t.Helper()
	bin := Bin()
	if info, err := os.Stat(bin); err != nil || info.IsDir() || info.Mode()&0o111 == 0 {
		t.Fatalf("no sessiond binary at %s (set SESSIOND_BIN to the binary)", bin)
	}
	for attempt := 0; ; attempt++ {
		s, err := start(bin, FreePort(t), args)
		if err == nil {
			t.Cleanup(s.Stop)
			return s
		}
		if attempt == 2 {
			t.Fatalf("sessiond did not start: %v", err)
		}
	}
}

// StartAt runs sessiond as Start does, on the given port (the port of a server that was
// stopped, to restart it where its clients look for it).
func StartAt(t testing.TB, port int, args ...string) *Server {
	t.Helper()
	bin := Bin()
	var err error
	for attempt := 0; attempt < 50; attempt++ { // the port may take a moment to be free again
		var s *Server
		if s, err = start(bin, port, args); err == nil {
			t.Cleanup(s.Stop)
			return s
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("sessiond did not start on port %d: %v", port, err)
	return nil
}

func start(bin string, port int, args []string) (*Server, error) {
	s := &Server{Port: port, URL: "http://127.0.0.1:" + strconv.Itoa(port), out: &lockedBuffer{}}
	all := append([]string{"--host", "127.0.0.1", "--port", strconv.Itoa(port), "--store", "memory", "--log-level", "warning"}, args...)
	s.cmd = exec.Command(bin, all...)
	s.cmd.Stdout = s.out
	s.cmd.Stderr = s.out
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- s.cmd.Wait() }()
	client := &http.Client{Timeout: 500 * time.Millisecond}
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case err := <-exited:
			s.done = true
			return nil, fmt.Errorf("sessiond exited at start (%v): %s", err, s.out.String())
		default:
		}
		if resp, err := client.Get(s.URL + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				go func() { <-exited; s.mu.Lock(); s.done = true; s.mu.Unlock() }()
				return s, nil
			}
		}
		if time.Now().After(deadline) {
			_ = s.cmd.Process.Kill()
			<-exited
			return nil, fmt.Errorf("sessiond was not ready within 15 s: %s", s.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Pause stops the process (SIGSTOP): it keeps its port and sessions but answers nothing.
// It returns once every thread has stopped (the signal alone returns before, and a thread
// still running could answer one more request).
func (s *Server) Pause() {
	_ = s.cmd.Process.Signal(syscall.SIGSTOP)
	tasks := fmt.Sprintf("/proc/%d/task", s.cmd.Process.Pid)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		entries, err := os.ReadDir(tasks)
		if err != nil {
			time.Sleep(200 * time.Millisecond)
			return
		}
		stopped := len(entries) > 0
		for _, e := range entries {
			stat, err := os.ReadFile(filepath.Join(tasks, e.Name(), "stat"))
			if err != nil {
				continue
			}
			fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
			if len(fields) == 0 || (fields[0] != "T" && fields[0] != "t") {
				stopped = false
				break
			}
		}
		if stopped {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Resume continues a paused process.
func (s *Server) Resume() { _ = s.cmd.Process.Signal(syscall.SIGCONT) }

// Stop ends the process (SIGTERM, then SIGKILL after 10 s) and waits for it.
func (s *Server) Stop() {
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	if done {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGCONT)
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		done = s.done
		s.mu.Unlock()
		if done {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	_ = s.cmd.Process.Kill()
}

// Output is what the process printed.
func (s *Server) Output() string { return s.out.String() }

// Terminate sends SIGTERM and returns at once (the process drains, then exits).
func (s *Server) Terminate() { _ = s.cmd.Process.Signal(syscall.SIGTERM) }

// Kill ends the process at once (SIGKILL) and waits for it.
func (s *Server) Kill() {
	_ = s.cmd.Process.Kill()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		done := s.done
		s.mu.Unlock()
		if done {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}
