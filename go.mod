module github.com/shiprelay/shiprelay

go 1.26.8

require (
	github.com/shopspring/decimal v1.6.0
	gopkg.in/yaml.v3 v3.0.1
)
