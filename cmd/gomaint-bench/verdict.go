// The verdict every mode ends with.

package main

import "fmt"

// verdict prints what failed and what missed its target, then the outcome,
// and returns the exit status. quickOK says what a -quick run has shown.
func verdict(fails, missed []string, quick bool, quickOK string) int {
	switch {
	case printProblems(fails, missed):
		return exitMissed
	case quick:
		fmt.Printf("OK: %s (targets not checked with -quick)\n", quickOK)
	default:
		fmt.Println("PASS: all measured targets met")
	}
	return exitOK
}

// printProblems prints fails and missed targets, and says whether there
// were any.
func printProblems(fails, missed []string) bool {
	for _, f := range fails {
		fmt.Println("FAIL:", f)
	}
	for _, m := range missed {
		fmt.Println("MISSED:", m)
	}
	return len(fails)+len(missed) > 0
}
