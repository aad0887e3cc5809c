package samtemplate

import (
	"errors"
	"reflect"
	"testing"
)

const resolveTemplate = `
Parameters:
  Env: {Type: String, Default: dev, AllowedValues: [dev, prod]}
  Names: {Type: CommaDelimitedList, Default: "a, b,c"}
  Count: {Type: Number, Default: 3}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  NotProd: !Not [!Condition IsProd]
  Both: !And [!Condition NotProd, !Equals [!Ref Count, 3]]
Globals:
  Function:
    Timeout: 10
    Layers: [l1]
    Environment:
      Variables: {A: "1", B: "2"}
Resources:
  Q:
    Type: AWS::SQS::Queue
  F:
    Type: AWS::Serverless::Function
    Properties:
      Layers: [l2]
      Timeout: !Ref Count
      Environment:
        Variables: {B: !Ref Q, C: !GetAtt Q.Arn}
`

func TestShortFormsAndResolve(t *testing.T) {
	tpl, err := ParseBytes([]byte(resolveTemplate))
	if err != nil {
		t.Fatal(err)
	}
	res, err := tpl.Resolver(ResolverOptions{
		Parameters: map[string]string{"Env": "prod"},
		Pseudo:     PseudoParameters("eu-west-1", "111122223333", "stack"),
		Resources:  map[string]any{"Q": "https://q"},
		Attributes: map[string]any{"Q.Arn": "arn:q", "Q.QueueName": "q"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Conditions["IsProd"] || res.Conditions["NotProd"] || res.Conditions["Both"] {
		t.Errorf("conditions %v", res.Conditions)
	}
	for _, c := range []struct {
		in   string
		want any
	}{
		{`!Ref Q`, "https://q"},
		{`!GetAtt Q.Arn`, "arn:q"},
		{`{"Fn::GetAtt": [Q, QueueName]}`, "q"},
		{`!Sub "${AWS::Region}:${AWS::AccountId}:${Q.QueueName}:${Env}:${!Literal}"`, "eu-west-1:111122223333:q:prod:${Literal}"},
		{`!Sub ["${X}-${Q}", {X: !Ref Env}]`, "prod-https://q"},
		{`!Join ["/", [a, !Ref Env, 3]]`, "a/prod/3"},
		{`!Select [1, !Ref Names]`, "b"},
		{`!Select [2, !Split [",", "x,y,z"]]`, "z"},
		{`!Base64 hi`, "aGk="},
		{`!If [IsProd, big, small]`, "big"},
		{`!If [NotProd, big, small]`, "small"},
		{`[a, !Ref AWS::NoValue, b]`, []any{"a", "b"}},
		{`{k: !If [NotProd, x, !Ref AWS::NoValue], j: 1}`, map[string]any{"j": 1}},
		{`!Ref AWS::URLSuffix`, "amazonaws.com"},
	} {
		tp, err := ParseBytes([]byte("Resources: {}\nX: " + c.in + "\n"))
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		got, err := Resolve(tp.Doc["X"], res)
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.in, got, c.want)
		}
	}
	for _, bad := range []string{`!Ref Nope`, `!GetAtt Q.Nope`, `!Sub "${Nope}"`, `!Select [5, [a]]`, `!FindInMap [M, a, b]`, `!If [Nope, a, b]`} {
		tp, err := ParseBytes([]byte("Resources: {}\nX: " + bad + "\n"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Resolve(tp.Doc["X"], res); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
	if _, err := Resolve(map[string]any{"Ref": "Nope"}, res); !errors.Is(err, ErrUnresolved) {
		t.Errorf("unresolved Ref: %v", err)
	}
}

func TestGlobalsMerge(t *testing.T) {
	tpl, err := ParseBytes([]byte(resolveTemplate))
	if err != nil {
		t.Fatal(err)
	}
	fns, err := tpl.Functions()
	if err != nil || len(fns) != 1 {
		t.Fatal(fns, err)
	}
	f := fns[0]
	// Lists concatenate, maps merge, scalars and intrinsics replace.
	if !reflect.DeepEqual(f.Properties["Layers"], []any{"l1", "l2"}) {
		t.Errorf("Layers %v", f.Properties["Layers"])
	}
	if f.Environment["A"] != "1" || !reflect.DeepEqual(f.Environment["B"], map[string]any{"Ref": "Q"}) || f.Environment["C"] == nil {
		t.Errorf("Environment %v", f.Environment)
	}
	if n, err := f.Timeout.Int(&MapResolver{Values: map[string]any{"Count": "3"}}); err != nil || n != 3 {
		t.Errorf("Timeout %d %v", n, err)
	}
	if _, err := f.Timeout.Int(nil); err == nil {
		t.Error("a Ref resolved without a resolver")
	}
	if f.Dir != "" || f.CodeURI != "" {
		t.Errorf("no CodeUri: %q %q", f.Dir, f.CodeURI)
	}
}

func TestParameterValues(t *testing.T) {
	tpl, err := ParseBytes([]byte(resolveTemplate))
	if err != nil {
		t.Fatal(err)
	}
	v, err := tpl.ParameterValues(nil)
	if err != nil {
		t.Fatal(err)
	}
	if v["Env"] != "dev" || v["Count"] != "3" || !reflect.DeepEqual(v["Names"], []any{"a", "b", "c"}) {
		t.Errorf("%v", v)
	}
	if _, err := tpl.ParameterValues(map[string]string{"Env": "qa"}); err == nil {
		t.Error("value outside AllowedValues accepted")
	}
	if _, err := tpl.ParameterValues(map[string]string{"Nope": "x"}); err == nil {
		t.Error("unknown parameter accepted")
	}
}

func TestLineNumbers(t *testing.T) {
	tpl := loadTemplate(t)
	if tpl.Resources["Table"].Line == 0 || tpl.Line("Resources.Table.Properties.KeySchema") <= tpl.Resources["Table"].Line {
		t.Errorf("lines: %d %d", tpl.Resources["Table"].Line, tpl.Line("Resources.Table.Properties.KeySchema"))
	}
	if tpl.Line("Resources.Table.Properties.NoSuch") != tpl.Line("Resources.Table.Properties") {
		t.Error("an unknown path does not fall back to its parent's line")
	}
}
