// Package config finds, reads and checks Warren's configuration: Burrow's file
// (burrow.toml, .json, .yaml ...), its environment overrides, and the typed
// settings of every section that Warren's own packages take.
package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/viper"
)

// extensions are tried in this order in the configuration directory, as Burrow
// does; the first that exists wins.
var extensions = []string{"json", "toml", "yaml", "yml", "properties", "props", "prop",
	"hcl", "tfvars", "dotenv", "env", "ini"}

// readable are the formats Warren parses; a file of another listed format is an
// error, as in Burrow.
var readable = map[string]string{"json": "json", "toml": "toml", "yaml": "yaml", "yml": "yaml",
	"dotenv": "dotenv", "env": "dotenv"}

// Find returns the configuration file to read. dir and file are the values of
// --config-dir and --config, empty when not given. With neither flag and no
// burrow.* file in the working directory, it returns "" and demo true.
func Find(dir, file string) (path string, demo bool, err error) {
	switch {
	case dir != "" && file != "":
		return "", false, errors.New("give either --config-dir or --config, not both")
	case file != "":
		if _, err := os.Stat(file); err != nil {
			return "", false, fmt.Errorf("cannot read configuration file: %w", err)
		}
		return file, false, nil
	}
	search := dir
	if search == "" {
		search = "."
	}
	for _, ext := range extensions {
		candidate := filepath.Join(search, "burrow."+ext)
		if _, err := os.Stat(candidate); err == nil {
			return candidate, false, nil
		}
	}
	if dir == "" {
		return "", true, nil
	}
	return "", false, fmt.Errorf("Config File \"burrow\" Not Found in \"[%s]\"", dir)
}

// Read parses the file at path (its extension picks the format) and sets up the
// environment overrides: PREFIX_SECTION_NAME_KEY, where PREFIX is
// general.env-var-prefix from the file (default "burrow"), "." and "-" become
// "_", and everything is upper case. An empty variable counts as unset.
func Read(path string) (*viper.Viper, error) {
	ext := strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
	format, ok := readable[ext]
	if !ok {
		return nil, fmt.Errorf("Unsupported Config Type %q", ext)
	}
	v := viper.New()
	v.SetConfigFile(path)
	v.SetConfigType(format)
	if err := v.ReadInConfig(); err != nil {
		return nil, fmt.Errorf("While parsing config: %w", err)
	}
	prefix := "burrow"
	if v.IsSet("general.env-var-prefix") {
		prefix = v.GetString("general.env-var-prefix")
	}
	Environment(v, prefix)
	return v, nil
}

// Environment makes v take overrides from the environment with the given prefix.
func Environment(v *viper.Viper, prefix string) {
	v.SetEnvPrefix(prefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_", "-", "_"))
	v.AllowEmptyEnv(false)
	v.AutomaticEnv()
}

// SingleModule picks the module of a section that allows one (storage,
// evaluator): the configured one, or "default" of class defaultClass when none
// is, which is then set in v so that /v3/config shows it. With more than one it
// returns ok false and their names, sorted.
func SingleModule(v *viper.Viper, section, defaultClass string) (name string, names []string, ok bool) {
	for n := range v.GetStringMap(section) {
		names = append(names, n)
	}
	sort.Strings(names)
	switch len(names) {
	case 0:
		v.Set(section+".default.class-name", defaultClass)
		return "default", []string{"default"}, true
	case 1:
		return names[0], names, true
	}
	return "", names, false
}
