package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/hellogw/hellogw/oauth"
)

// hashSecret is `hellogw hash-secret [-generate]`: it prints a hash for a
// config file's secret_hash or password_hash. The secret is read from
// standard input, not the command line, so it stays out of the shell
// history and the process list; -generate makes a new random secret (also
// fit for session_key) and prints it with its hash.
func (m *Main) hashSecret(args []string) error {
	fs := flag.NewFlagSet("hellogw hash-secret", flag.ContinueOnError)
	fs.SetOutput(m.logOut)
	generate := fs.Bool("generate", false, "generate a random URL-safe secret and print it with its hash")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: echo -n SECRET | hellogw hash-secret\n       hellogw hash-secret -generate")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	var secret string
	if *generate {
		secret = oauth.GenerateSecret()
	} else {
		line, err := bufio.NewReader(m.Stdin).ReadString('\n')
		if line == "" && err != nil {
			return errors.New("no secret on standard input")
		}
		secret = strings.TrimRight(line, "\r\n")
		if secret == "" {
			return errors.New("the secret is empty")
		}
	}
	hash, err := oauth.HashSecret(secret)
	if err != nil {
		return err
	}
	if *generate {
		fmt.Fprintf(m.Stdout, "secret: %s\n", secret)
	}
	fmt.Fprintf(m.Stdout, "hash: %s\n", hash)
	return nil
}
