package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/hellogw/hellogw/oauth"
)

const hashSecretUsage = `usage: hellogw hash-secret             type the secret (not shown), or pipe it: printf '%s' SECRET | hellogw hash-secret
       hellogw hash-secret -generate   make a random secret

Prints a bcrypt hash for secret_hash or password_hash on standard output.

`

// hashSecret is `hellogw hash-secret [-generate]`: it prints a hash for a
// config file's secret_hash or password_hash, alone on standard output so
// that it can be pasted or piped as it is. The secret is read from standard
// input, not the command line, so it stays out of the shell history and the
// process list; on a terminal it is asked for and not echoed. -generate
// makes a new random secret (also fit for session_key) and prints it with
// its hash, each on a labelled line.
func (m *Main) hashSecret(args []string) error {
	fs := flag.NewFlagSet("hellogw hash-secret", flag.ContinueOnError)
	generate := fs.Bool("generate", false, "generate a random URL-safe secret and print it with its hash")
	fs.Usage = func() {
		_, _ = io.WriteString(fs.Output(), hashSecretUsage)
		fs.PrintDefaults()
	}
	if err := m.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: the secret is read from standard input, not the command line", fs.Arg(0))
	}
	if *generate {
		secret := oauth.GenerateSecret()
		hash, err := oauth.HashSecret(secret)
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "secret: %s\nhash: %s\n", secret, hash)
		return nil
	}
	secret, err := m.readSecret()
	if err != nil {
		return err
	}
	hash, err := oauth.HashSecret(secret)
	if err != nil {
		return err
	}
	fmt.Fprintln(m.Stdout, hash)
	return nil
}

// readSecret reads one line of standard input; on a terminal it first
// asks for it, on standard error, and does not echo it.
func (m *Main) readSecret() (string, error) {
	var line string
	if f, ok := m.Stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(m.logOut, "secret (not shown): ")
		m.logOut.flush()
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(m.logOut)
		if err != nil {
			return "", fmt.Errorf("reading the secret: %w", err)
		}
		line = string(b)
	} else {
		l, err := bufio.NewReader(m.Stdin).ReadString('\n')
		if l == "" && err != nil {
			return "", errors.New("no secret on standard input: type it, or pipe it: printf '%s' SECRET | hellogw hash-secret")
		}
		line = l
	}
	secret := strings.TrimRight(line, "\r\n")
	if secret == "" {
		return "", errors.New("the secret is empty")
	}
	return secret, nil
}
